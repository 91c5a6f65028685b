"""The persistence protocol of ``ASYNC_THROUGH`` writes (docs/DESIGN.md, invariants I1-I5).

A persist job is keyed by **inode id + generation**, never by path; its upload goes to a
staging object **outside every user directory**; its commit goes to the inode's
*current* path or cancels itself.  Each step, the function that carries it out and the
crash point (:data:`siltfs.crashpoints.POINTS`) that a test can kill the process at:

====================  =========================================================  ==========================
step                  function                                                   crash point
====================  =========================================================  ==========================
1. outbox             :func:`outbox.commit_file` -- inode (TO_BE_PERSISTED,      ``write.after_commit``
                      blocks pinned) + job in one metastore transaction
   (re)schedule       :func:`barrier.schedule` (``persist(path)``)               --
2. claim + lease      :class:`runner.PersistRunner` (``_claim``, ``_renew``,     --
                      ``_release``; owner: :class:`identity.ProcessId`)
   upload             :meth:`persister.Persister.run_job` ->                     ``persist.after_upload``
                      :func:`upload.stage` to a :class:`staging.StagingName`
3. commit             :meth:`commit.Committer.commit` -- reload by id, latch     ``persist.before_move``,
                      the current path, create parents, move into place,         ``persist.after_move``
                      record the fingerprint; or :meth:`~commit.Committer.
                      cancel` (inode gone / rewritten)
5. failure            :meth:`commit.Committer.fail` (backoff + jitter, FAILED    --
                      after ``max_attempts``, LOST if no copy is left)
   sweep              :meth:`sweep.Sweeper.sweep`, :func:`sweep.tidy_staging`    --
   recovery           :func:`recovery.reclaim_dead_leases` (then the sweep),     any of the above
                      called by ``master/recovery.py`` on start
I5 barrier            :func:`barrier.wait` (``wait_persisted``),                 --
                      :class:`queue.JobQueue` (list, show, retry, cancel)
====================  =========================================================  ==========================

Step 4 (rename and delete of persisted entries, rolled forward by intents) is the
namespace's: :mod:`siltfs.master.namespace`, :mod:`siltfs.master.intents`
(``rename.after_metadata``, ``rename.after_ufs``, ``delete.after_metadata``,
``ufs.move_tree.partial``).

Stored formats (unchanged, existing homes open): staging names
``<j|w><inode>-<generation>-<token>`` (:mod:`siltfs.persist.staging`), lease and latch
owners ``<hostname>:<pid>:<nonce>`` and write tokens ``<host hash>h<pid>p<nonce>``
(:mod:`siltfs.persist.identity`).

Layering: ``persist/`` uses the namespace layer of ``master/`` (namespace, intents,
latches, mounts, the cluster view) and is used by the master's wiring
(``master/master.py``, ``master/recovery.py``, ``master/maintenance.py``) and by the
writer (``client/streams.py``: staging names, the outbox's ``NewFile``).
:mod:`~siltfs.persist.identity` and :mod:`~siltfs.persist.staging` import nothing above
``ufs/`` and may be used anywhere.
"""
