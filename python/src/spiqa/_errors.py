"""The one exception for bad stream data, and how a value from the data is shown in its message."""
import json


class StreamError(ValueError):
    """Malformed, truncated or hostile input: one line naming the source, the record, the byte offset in the
    uncompressed stream, what was found and what was expected (the Swift tools' wording, docs/stream-format.md).

    Attributes: ``source`` (file name, ``stdin``, ``<stream>``), ``record`` (index of the NPY array, every array
    counts, from 0; None if unknown), ``offset`` (uncompressed byte offset or None), ``what``, ``expected``.
    """

    def __init__(self, what, expected=None, *, source="<stream>", record=None, offset=None):
        self.what = what
        self.expected = expected
        self.source = source
        self.record = record
        self.offset = offset
        super().__init__(self._text())

    def _text(self):
        s = self.source
        if self.record is not None and self.offset is not None:
            s += f": record {self.record} (byte {self.offset})"
        elif self.record is not None:
            s += f": record {self.record}"
        elif self.offset is not None:
            s += f": byte {self.offset}"
        s += ": " + self.what
        if self.expected:
            s += "; expected " + self.expected
        return s

    def located(self, source, record, offset):
        """A copy with the location filled in where it was not known yet."""
        return StreamError(self.what, self.expected, source=source,
                           record=self.record if self.record is not None else record,
                           offset=self.offset if self.offset is not None else offset)

    def __reduce__(self):
        return (_rebuild, (self.what, self.expected, self.source, self.record, self.offset))


def _rebuild(what, expected, source, record, offset):
    return StreamError(what, expected, source=source, record=record, offset=offset)


def shown(value, most=60):
    """A value from the data for a one-line message: JSON in ASCII (no control character, line separator or
    terminal escape gets through), cut to ``most`` characters."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= most else text[:most - 3] + "..."
