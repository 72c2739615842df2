using System.Net;
using System.Net.Sockets;

namespace Tether.Core.SessionPersistence;

/// <summary>Turns a client address into the 128-bit key of SOURCE_IP persistence (IPv4 as IPv4-mapped IPv6, so that a
/// client reaching a dual-stack listener both ways has one key).</summary>
public static class ClientAddress
{
    /// <summary>The key of <paramref name="address"/>. Allocates nothing.</summary>
    public static UInt128 ToKey(IPAddress? address)
    {
        if (address is null)
        {
            return UInt128.Zero;
        }

        Span<byte> bytes = stackalloc byte[16];
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            bytes[..10].Clear();
            bytes[10] = 0xff;
            bytes[11] = 0xff;
            address.TryWriteBytes(bytes[12..], out _);
        }
        else if (!address.TryWriteBytes(bytes, out _))
        {
            return UInt128.Zero;
        }

        return new UInt128(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[..8]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    /// <summary>The address a key stands for (IPv4-mapped keys become IPv4 again).</summary>
    public static IPAddress FromKey(UInt128 key)
    {
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes[..8], (ulong)(key >> 64));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], (ulong)key);
        var address = new IPAddress(bytes);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}
