"""Output files as the tools write them (docs/robustness.md; Sources/SpiqaIO/AtomicFile.swift): under a temporary
name beside the file, renamed into place only when complete, so a failed run never leaves a half-written file."""
import errno
import os
import stat
import sys
import tempfile


class OutputFile:
    """A binary sink for ``path``; ``commit()`` puts it in place, ``discard()`` (or an exception inside a ``with``
    block) drops it.

    - a new path or a regular file: written as ``<file>.tmp-XXXXXX`` in the same folder and renamed over it; an
      existing file keeps its permission bits, a new one gets ``0666 & ~umask``;
    - a symbolic link: the file it points to is written that way, and the link stays;
    - a character device (``/dev/null``) or a FIFO: written through, never replaced;
    - ``"-"``, or a path that is standard output itself (``/dev/stdout``): standard output.
    """

    def __init__(self, path):
        self.path = path
        self._f = None
        self._tmp = None
        self._target = None
        self._own = True            # whether close() closes the file object
        if path == "-" or _is_stdout(path):
            self._f, self._own = sys.stdout.buffer, False
            return
        try:
            st = os.stat(path)      # through every link
        except FileNotFoundError:
            st = None
        if st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)):
            self._f = open(path, "wb")
            return
        if st is not None and not stat.S_ISREG(st.st_mode):   # a folder, block device or socket: refused
            code = errno.EISDIR if stat.S_ISDIR(st.st_mode) else errno.EINVAL
            raise OSError(code, "not a regular file, character device or FIFO", path)
        self._target = os.path.realpath(path)   # a (dangling) link's target is what gets written
        folder, name = os.path.split(self._target)
        fd, self._tmp = tempfile.mkstemp(prefix=name + ".tmp-", dir=folder or ".")
        try:
            if st is not None:
                mode = stat.S_IMODE(st.st_mode)
            else:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.fchmod(fd, mode)
            self._f = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            os.unlink(self._tmp)
            raise

    def write(self, b):
        return self._f.write(b)

    def flush(self):
        self._f.flush()

    def commit(self):
        """Closes the file and renames it into place (a device, FIFO or standard output is flushed or closed)."""
        if self._f is None:
            return
        f, self._f = self._f, None
        if not self._own:
            f.flush()
            return
        try:
            f.close()
            if self._tmp is not None:
                os.replace(self._tmp, self._target)
                self._tmp = None
        finally:
            self._drop_tmp()

    def discard(self):
        """Drops what was written under the temporary name (a device or FIFO is just closed)."""
        f, self._f = self._f, None
        if f is not None and self._own:
            try:
                f.close()
            except OSError:
                pass
        self._drop_tmp()

    def _drop_tmp(self):
        if self._tmp is not None:
            tmp, self._tmp = self._tmp, None
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.commit()
        else:
            self.discard()
        return False

    def __del__(self):
        self.discard()


def _is_stdout(path):
    """Whether ``path`` names the file standard output writes to (``/dev/stdout``, ``/proc/self/fd/1``...)."""
    try:
        a, b = os.stat(path), os.fstat(1)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino) and not stat.S_ISCHR(a.st_mode)
