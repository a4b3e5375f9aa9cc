using System;
using System.IO;
using System.Text;
using BatchRequest.Engine.Resources;

namespace BatchRequest.Engine.Requests;

/// <summary>
/// Opens a request file as a stream of UTF-8 without a byte order mark, whatever its encoding: UTF-8 with or
/// without a BOM, or UTF-16 LE/BE with a BOM (what Windows PowerShell's Out-File writes), transcoded on the fly.
/// </summary>
internal static class Utf8Input
{
    /// <exception cref="RequestFileException">The file is in an encoding that cannot be read.</exception>
    public static Stream Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
        try
        {
            var head = new byte[4];
            var length = 0;
            int read;
            while (length < head.Length && (read = file.Read(head, length, head.Length - length)) > 0)
            {
                length += read;
            }

            if (length >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF)
            {
                file.Position = 3;
                return file;
            }

            if (length >= 4 && ((head[0] == 0xFF && head[1] == 0xFE && head[2] == 0 && head[3] == 0) || (head[0] == 0 && head[1] == 0 && head[2] == 0xFE && head[3] == 0xFF)))
            {
                throw Unreadable(path, Messages.RequestFileUtf32);
            }

            if (length >= 2 && ((head[0] == 0xFF && head[1] == 0xFE) || (head[0] == 0xFE && head[1] == 0xFF)))
            {
                file.Position = 2;
                return new Utf16ToUtf8Stream(file, bigEndian: head[0] == 0xFE, path);
            }

            // Text that starts with a NUL byte next to a character is UTF-16 or UTF-32 that lost its BOM.
            if (length >= 2 && (head[0] == 0) != (head[1] == 0))
            {
                throw Unreadable(path, Messages.RequestFileNoByteOrderMark);
            }

            file.Position = 0;
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static RequestFileException Unreadable(string path, string template) =>
        new(RequestErrorIds.FileMalformed, Text.Format(template, path), new RecordPosition(path, 1, 1));

    /// <summary>Reads UTF-16 from the inner stream and hands out the same text as UTF-8.</summary>
    private sealed class Utf16ToUtf8Stream : Stream
    {
        private readonly Stream _inner;
        private readonly string _path;
        private readonly Decoder _decoder;
        private readonly Encoder _encoder = new UTF8Encoding(false, true).GetEncoder();
        private readonly byte[] _raw = new byte[32 * 1024];
        private readonly char[] _chars = new char[16 * 1024 + 1];
        private readonly byte[] _encoded = new byte[(16 * 1024 + 1) * 3];
        private int _encodedStart;
        private int _encodedEnd;
        private bool _flushed;
        private long _line = 1;

        public Utf16ToUtf8Stream(Stream inner, bool bigEndian, string path)
        {
            _inner = inner;
            _path = path;
            _decoder = new UnicodeEncoding(bigEndian, byteOrderMark: false, throwOnInvalidBytes: true).GetDecoder();
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            while (_encodedStart == _encodedEnd)
            {
                if (_flushed)
                {
                    return 0;
                }

                Transcode();
            }

            var n = Math.Min(count, _encodedEnd - _encodedStart);
            Buffer.BlockCopy(_encoded, _encodedStart, buffer, offset, n);
            _encodedStart += n;
            return n;
        }

        private void Transcode()
        {
            var read = _inner.Read(_raw, 0, _raw.Length);
            _flushed = read == 0;
            try
            {
                var chars = _decoder.GetChars(_raw, 0, read, _chars, 0, _flushed);
                _encodedStart = 0;
                _encodedEnd = _encoder.GetBytes(_chars, 0, chars, _encoded, 0, _flushed);
                foreach (var c in _chars.AsSpan(0, chars))
                {
                    _line += c == '\n' ? 1 : 0;
                }
            }
            catch (Exception exception) when (exception is DecoderFallbackException or EncoderFallbackException)
            {
                throw new RequestFileException(
                    RequestErrorIds.FileMalformed,
                    Text.Format(Messages.RequestFileNotUtf16, _path, _line),
                    new RecordPosition(_path, _line, 1),
                    exception);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
