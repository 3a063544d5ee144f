"""Shared plumbing every layer uses: paths, user errors, atomic writes, the stage CLI and
which source files a script runs."""
