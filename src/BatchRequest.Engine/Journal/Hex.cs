using System.Security.Cryptography;
using System.Text;

namespace BatchRequest.Engine.Journal;

/// <summary>SHA-256 of UTF-8 text as lowercase hex.</summary>
internal static class Hex
{
    public static string Sha256(string text, int bytes = 32)
    {
        using var sha = SHA256.Create();
        var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(text));
        var hex = new StringBuilder(bytes * 2);
        for (var i = 0; i < bytes; i++)
        {
            hex.Append(hash[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return hex.ToString();
    }
}
