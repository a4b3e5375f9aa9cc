using System;
using System.Security.Cryptography;
using System.Text;

namespace BatchRequest.Engine.Common;

/// <summary>SHA-256 of UTF-8 text as lowercase hex.</summary>
internal static class Hex
{
    public static string Sha256(string text, int bytes = 32) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, bytes).ToLowerInvariant();
}
