"""Plain data: enums, inodes, file infos, paths."""
