using System.Security.Cryptography;

namespace KnowledgeDistillation.Internal;

/// <summary>The copy loop of the dataset downloaders: a response body into a file, refusing more than a byte limit.</summary>
internal static class BoundedDownload
{
    /// <summary>Copies <paramref name="body"/> to <paramref name="file"/>, feeding <paramref name="hash"/> when given.</summary>
    /// <param name="body">The response body.</param>
    /// <param name="file">The destination.</param>
    /// <param name="uri">The address, for the message.</param>
    /// <param name="maxBytes">The most bytes accepted.</param>
    /// <param name="hash">A hash to append every chunk to, or null.</param>
    /// <param name="token">Checked between chunks.</param>
    /// <exception cref="InvalidDataException">The body is longer than <paramref name="maxBytes"/>.</exception>
    public static void Copy(Stream body, Stream file, Uri uri, long maxBytes, IncrementalHash? hash, CancellationToken token)
    {
        var buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = body.Read(buffer, 0, buffer.Length)) > 0)
        {
            token.ThrowIfCancellationRequested();
            total += n;
            if (total > maxBytes)
            {
                throw new InvalidDataException($"GET {uri} sent more than the {maxBytes} bytes accepted.");
            }

            hash?.AppendData(buffer, 0, n);
            file.Write(buffer, 0, n);
        }
    }
}
