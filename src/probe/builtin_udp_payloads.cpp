// The built-in UDP payloads, in nmap-payloads format, written from each protocol's RFC for machines without nmap.
#include "flagscan/probe/udp_payloads.hpp"

namespace flagscan {

// Each request is harmless (it reads, never changes, state), small, and one the service must
// answer, even if only with an error: any UDP reply proves the port open. Identifiers that
// the protocol lets us choose spell "FS" / "FSCN" / "FLAGSCAN". udp_payloads_test decodes them.
std::string_view builtin_udp_payloads_text() {
    return R"payloads(
# DNS, RFC 1035 section 4.1: a query for the root zone's NS records. Recursion not desired,
# so a resolver answers from its cache (the root NS set is always there) and an
# authoritative-only server with a referral or REFUSED.
udp 53
  "\x46\x53"                  # ID
  "\x00\x00"                  # QR 0 (query), OPCODE 0 (QUERY), RD 0
  "\x00\x01"                  # QDCOUNT 1
  "\x00\x00\x00\x00\x00\x00"  # ANCOUNT, NSCOUNT, ARCOUNT 0
  "\x00"                      # QNAME: the root (one empty label)
  "\x00\x02"                  # QTYPE NS (2)
  "\x00\x01"                  # QCLASS IN (1)

# TFTP, RFC 1350 section 5: a read request (RRQ) for a file no server has, answered with
# an ERROR packet (file not found), or DATA.
udp 69
  "\x00\x01"                  # opcode 1: RRQ
  "flagscan.probe\x00"        # filename, NUL-terminated
  "octet\x00"                 # mode, NUL-terminated

# ONC RPC, RFC 5531 section 9: a call of procedure 0 (NULL) of the portmapper (program
# 100000, version 2, RFC 1833 section 3), with AUTH_NONE; answered with an empty reply.
udp 111
  "\x46\x53\x43\x4e"          # xid
  "\x00\x00\x00\x00"          # msg_type CALL (0)
  "\x00\x00\x00\x02"          # rpcvers 2
  "\x00\x01\x86\xa0"          # prog 100000 (portmapper)
  "\x00\x00\x00\x02"          # vers 2
  "\x00\x00\x00\x00"          # proc 0 (NULL)
  "\x00\x00\x00\x00\x00\x00\x00\x00"  # cred: AUTH_NONE (0), length 0
  "\x00\x00\x00\x00\x00\x00\x00\x00"  # verf: AUTH_NONE (0), length 0

# NTP, RFC 5905 section 7.3: a 48-byte NTPv4 client packet. The server copies the transmit
# timestamp into its reply's origin timestamp, so it is set (not zero) to tell the reply apart.
udp 123
  "\x23"                      # LI 0, VN 4, Mode 3 (client)
  "\x00"                      # Stratum 0 (unspecified)
  "\x06"                      # Poll: 2^6 = 64 s
  "\xec"                      # Precision: 2^-20 s
  "\x00\x00\x00\x00"          # Root Delay
  "\x00\x00\x00\x00"          # Root Dispersion
  "\x00\x00\x00\x00"          # Reference ID
  "\x00\x00\x00\x00\x00\x00\x00\x00"  # Reference Timestamp
  "\x00\x00\x00\x00\x00\x00\x00\x00"  # Origin Timestamp
  "\x00\x00\x00\x00\x00\x00\x00\x00"  # Receive Timestamp
  "\xe9\x00\x00\x00FSCN"      # Transmit Timestamp (2023-11-15 + a fraction)

# NetBIOS name service, RFC 1002 section 4.2.17: NODE STATUS REQUEST (NBSTAT) for the
# wildcard name "*", answered with the node's name table.
udp 137
  "\x46\x53"                  # NAME_TRN_ID
  "\x00\x00"                  # R 0 (request), OPCODE 0 (query), NM_FLAGS 0 (unicast), RCODE 0
  "\x00\x01"                  # QDCOUNT 1
  "\x00\x00\x00\x00\x00\x00"  # ANCOUNT, NSCOUNT, ARCOUNT 0
  # QUESTION_NAME: "*" and 15 NULs, each half-byte + 'A' (RFC 1001 section 14.1): 32 bytes
  "\x20CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00"
  "\x00\x21"                  # QUESTION_TYPE NBSTAT (0x21)
  "\x00\x01"                  # QUESTION_CLASS IN (1)

# SNMP, RFC 1157 section 4.1: an SNMPv1 GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0,
# RFC 1213) with community "public", BER-encoded (X.690); answered with a GetResponse.
udp 161
  "\x30\x29"                  # Message: SEQUENCE, 41 bytes
  "\x02\x01\x00"              #   version: INTEGER 0 (version-1)
  "\x04\x06public"            #   community: OCTET STRING "public"
  "\xa0\x1c"                  #   GetRequest-PDU: [0], 28 bytes
  "\x02\x04\x46\x53\x43\x4e"  #     request-id: INTEGER
  "\x02\x01\x00"              #     error-status: INTEGER 0 (noError)
  "\x02\x01\x00"              #     error-index: INTEGER 0
  "\x30\x0e"                  #     variable-bindings: SEQUENCE OF, 14 bytes
  "\x30\x0c"                  #       VarBind: SEQUENCE, 12 bytes
  "\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00"  # name: OBJECT IDENTIFIER 1.3.6.1.2.1.1.1.0
  "\x05\x00"                  #         value: NULL

# IKEv1, RFC 2408 sections 3.1-3.6 with the IPsec DOI (RFC 2407) and IKE attributes
# (RFC 2409 appendix A): a Main Mode SA proposal (AES-128-CBC, SHA-1, pre-shared key, MODP
# group 14). A responder answers with its SA choice or a NO-PROPOSAL-CHOSEN notification.
udp 500
  "FLAGSCAN"                  # Initiator Cookie
  "\x00\x00\x00\x00\x00\x00\x00\x00"  # Responder Cookie: 0 (first message)
  "\x01"                      # Next Payload: SA (1)
  "\x10"                      # Version: 1.0
  "\x02"                      # Exchange Type: Identity Protection (Main Mode)
  "\x00"                      # Flags
  "\x00\x00\x00\x00"          # Message ID 0
  "\x00\x00\x00\x54"          # Length: 84
  "\x00\x00\x00\x38"          # SA: Next Payload none, reserved, length 56
  "\x00\x00\x00\x01"          #   DOI: IPSEC (1)
  "\x00\x00\x00\x01"          #   Situation: SIT_IDENTITY_ONLY
  "\x00\x00\x00\x2c"          #   Proposal: last (0), reserved, length 44
  "\x01\x01\x00\x01"          #   #1, PROTO_ISAKMP, SPI size 0, 1 transform
  "\x00\x00\x00\x24"          #     Transform: last (0), reserved, length 36
  "\x01\x01\x00\x00"          #     #1, KEY_IKE, reserved
  "\x80\x01\x00\x07"          #     Encryption: AES-CBC (7, RFC 3602)
  "\x80\x0e\x00\x80"          #     Key Length: 128
  "\x80\x02\x00\x02"          #     Hash: SHA (2)
  "\x80\x03\x00\x01"          #     Authentication: pre-shared key (1)
  "\x80\x04\x00\x0e"          #     Group: 14 (2048-bit MODP, RFC 3526)
  "\x80\x0b\x00\x01"          #     Life Type: seconds (1)
  "\x80\x0c\x70\x80"          #     Life Duration: 28800 s

# SSDP, UPnP Device Architecture 1.1 section 1.3.2 (no RFC; draft-cai-ssdp-v1): an M-SEARCH
# for all devices and services, answered with one HTTPU response per service.
udp 1900
  "M-SEARCH * HTTP/1.1\r\n"
  "HOST: 239.255.255.250:1900\r\n"
  "MAN: \"ssdp:discover\"\r\n"
  "MX: 1\r\n"
  "ST: ssdp:all\r\n"
  "\r\n"

# SIP, RFC 3261 section 11: OPTIONS with the headers of section 8.1.1. Max-Forwards 0 keeps a
# proxy from forwarding it: it answers itself, or with 483 Too Many Hops (section 16.3);
# "rport" (RFC 3581) has the response sent to the port the probe came from.
udp 5060
  "OPTIONS sip:nobody@flagscan.invalid SIP/2.0\r\n"
  "Via: SIP/2.0/UDP flagscan.invalid;branch=z9hG4bK-flagscan-1;rport\r\n"
  "Max-Forwards: 0\r\n"
  "To: <sip:nobody@flagscan.invalid>\r\n"
  "From: <sip:flagscan@flagscan.invalid>;tag=flagscan\r\n"
  "Call-ID: flagscan-probe@flagscan.invalid\r\n"
  "CSeq: 1 OPTIONS\r\n"
  "Accept: application/sdp\r\n"
  "Content-Length: 0\r\n"
  "\r\n"

# mDNS, RFC 6762, asking DNS-SD's service enumeration name (RFC 6763 section 9) in a DNS
# message (RFC 1035). A query from a port other than 5353 is a "legacy unicast" query
# (RFC 6762 section 6.7): it is answered by unicast to the port it came from.
udp 5353
  "\x00\x00"                  # ID 0 (RFC 6762 section 18.1)
  "\x00\x00"                  # standard query
  "\x00\x01"                  # QDCOUNT 1
  "\x00\x00\x00\x00\x00\x00"  # ANCOUNT, NSCOUNT, ARCOUNT 0
  "\x09_services\x07_dns-sd\x04_udp\x05local\x00"  # QNAME _services._dns-sd._udp.local
  "\x00\x0c"                  # QTYPE PTR (12)
  "\x00\x01"                  # QCLASS IN (1)

# memcached, its protocol.txt ("UDP protocol"; no RFC): the 8-byte frame header every UDP
# request needs, then "version", answered in one datagram. Not "stats": its reply is many
# datagrams, the amplification that memcached reflection attacks use.
udp 11211
  "\x46\x53"                  # request ID
  "\x00\x00"                  # sequence number 0
  "\x00\x01"                  # 1 datagram in this message
  "\x00\x00"                  # reserved
  "version\r\n"
)payloads";
}

}  // namespace flagscan
