"""Output files as the tools write them (docs/robustness.md; Sources/SpiqaIO/AtomicFile.swift): under a temporary
name beside the file, renamed into place only when complete, so a failed run never leaves a half-written file."""
import errno
import os
import secrets
import stat
import sys


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
        if path == "":
            raise ValueError("the output path is empty")
        if path == "-":
            self._f, self._own = sys.stdout.buffer, False
            return
        if _is_stdout(path):        # descriptor 1 itself, whatever sys.stdout is now (redirected, a notebook)
            self._f = os.fdopen(os.dup(1), "wb")
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
        fd, self._tmp = _create_beside(self._target)
        try:
            if st is not None:
                os.fchmod(fd, stat.S_IMODE(st.st_mode))   # an existing file keeps its permission bits
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


def _create_beside(target):
    """A new file ``<target>.tmp-XXXXXX`` in the target's folder, created 0666 so that the umask applies (as
    for any new file; tempfile.mkstemp makes 0600); returns ``(fd, path)``."""
    folder, name = os.path.split(target)
    for _ in range(100):
        tmp = os.path.join(folder, f"{name}.tmp-{secrets.token_hex(3)}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", target)


def _is_stdout(path):
    """Whether ``path`` names the file standard output writes to (``/dev/stdout``, ``/proc/self/fd/1``...)."""
    try:
        a, b = os.stat(path), os.fstat(1)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino) and not stat.S_ISCHR(a.st_mode)
