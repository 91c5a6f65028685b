"""The S3-compatible gateway (``silt s3``): the S3 REST API over the siltfs client contract.

A bucket is a top-level directory of the namespace, a key a path below it.  The gateway
uses only the public methods of a file system (:func:`siltfs.connect` embedded, or
:class:`~siltfs.client.remote.RemoteFileSystem`), so it serves an embedded home and a
remote master alike.  Modules, from the wire inwards:

- :mod:`.app`          routing: addressing, authentication, dispatch to an operation
- :mod:`.context`      one call as the operations see it; answers
- :mod:`.sigv4`        AWS Signature Version 4 (headers, presigned query, chunk signatures)
- :mod:`.sigv2`        Signature Version 2 (boto3's default presigned URLs)
- :mod:`.credentials`  the access keys (a 0600 TOML file, reloaded on SIGHUP)
- :mod:`.ingest`       request bodies, verified and spooled (:mod:`.chunked`: aws-chunked;
                       :mod:`.checksums`: CRC32/CRC32C/CRC64NVME/SHA)
- :mod:`.buckets`, :mod:`.objects`, :mod:`.listing`, :mod:`.multipart`: the operations
- :mod:`.conditions`   ranges, conditional requests, dates
- :mod:`.store`        the namespace under the S3 model (implicit parents, versions)
- :mod:`.meta`         S3 metadata kept with each object (ETag, headers, x-amz-meta-*)
- :mod:`.keys`         bucket names and keys -> namespace paths, checked before any change
- :mod:`.errors`       S3 errors and the one mapping from siltfs errors
- :mod:`.xml`          XML documents in and out
"""
