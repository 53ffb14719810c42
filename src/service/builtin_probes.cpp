// The built-in probe set (nmap-service-probes format), written for flagscan from the protocols' RFCs and banners.
#include "flagscan/service/load.hpp"

namespace flagscan {

namespace {

// Written by hand from the protocols, not taken from nmap's file (whose licence forbids it):
// each rule cites what it reads. Order matters: the first rule that matches wins.
constexpr std::string_view builtin_text = R"probes(# flagscan's built-in service probes
Probe TCP NULL q||
totalwaitms 6000
tcpwrappedms 3000
# SSH, RFC 4253 section 4.2: "SSH-protoversion-softwareversion SP comments CR LF". Debian and
# Ubuntu builds of OpenSSH put their package revision after the version: "Debian-2+deb12u3"
# (the pattern's delimiter is '=' because it holds a '|').
match ssh m=^SSH-(\d[\d.]*)-OpenSSH_(\S+) (Debian|Ubuntu)-(\S+)\r?\n= p/OpenSSH/ v/$2 $3 $4/ i/protocol $1/ o/Linux/ cpe:/a:openbsd:openssh:$2/ cpe:/o:linux:linux_kernel/a
match ssh m|^SSH-(\d[\d.]*)-OpenSSH_([^\s]+)[^\r\n]*\r?\n| p/OpenSSH/ v/$2/ i/protocol $1/ cpe:/a:openbsd:openssh:$2/
match ssh m|^SSH-(\d[\d.]*)-dropbear_([\w.]+)\r?\n| p/Dropbear sshd/ v/$2/ i/protocol $1/ cpe:/a:matt_johnston:dropbear_ssh_server:$2/
match ssh m|^SSH-(\d[\d.]*)-([^\s\r\n]+)[^\r\n]*\r?\n| i/protocol $1; $P(2)/
# FTP, RFC 959 section 4.2: the greeting is reply 220, "220 Service ready for new user".
match ftp m|^220 \(vsFTPd ([\w.-]+)\)\r\n| p/vsftpd/ v/$1/ o/Unix/ cpe:/a:vsftpd:vsftpd:$1/
match ftp m|^220 pyftpdlib ([\d.]+) ready\.\r\n| p/pyftpdlib/ v/$1/ cpe:/a:pyftpdlib_project:pyftpdlib:$1/
match ftp m|^220[- ]ProFTPD (\d[\w.]*) Server| p/ProFTPD/ v/$1/ cpe:/a:proftpd:proftpd:$1/
# SMTP, RFC 5321 section 4.2: "220 <domain> ESMTP <text>" announces the extended service.
match smtp m|^220 ([\w.-]+) ESMTP Postfix| p/Postfix smtpd/ h/$1/ cpe:/a:postfix:postfix/a
match smtp m|^220 ([\w.-]+) ESMTP Exim (\d[\w.]*)| p/Exim smtpd/ v/$2/ h/$1/ cpe:/a:exim:exim:$2/
softmatch smtp m|^220[- ][^\r\n]*\bE?SMTP\b|i
softmatch ftp m|^220[- ][^\r\n]*\bFTP\b|i
# POP3, RFC 1939 section 4: the greeting is a positive status "+OK ...".
match pop3 m|^\+OK Dovecot[^\r\n]* ready\.\r\n| p/Dovecot pop3d/ cpe:/a:dovecot:dovecot/
softmatch pop3 m|^\+OK[ \r]|
# IMAP4, RFC 9051 section 7.1.1: the greeting is an untagged "* OK".
match imap m|^\* OK \[CAPABILITY [^\]]*\] Dovecot[^\r\n]* ready\.\r\n| p/Dovecot imapd/ cpe:/a:dovecot:dovecot/
softmatch imap m|^\* OK[ \[]|
# Telnet, RFC 854: option negotiation, IAC (255) then WILL/WONT/DO/DONT (251-254) and an option.
match telnet m|^(?:\xff[\xfb-\xfe].)+|s
softmatch telnet m|^[^\r\n]*login: ?$|i

Probe TCP GetRequest q|GET / HTTP/1.0\r\n\r\n|
rarity 1
ports 80-85,591,3000,5000,8000-8010,8080-8090,8888,9000
sslports 443,4443,8443,9443
# HTTP, RFC 9110 section 10.2.4: the Server header names the software.
match http m|^HTTP/1\.[01] \d\d\d .*?\r\nServer: nginx/(\d[\d.]*)(?: \((\w+)\))?\r\n|s p/nginx/ v/$1/ i/$2/ cpe:/a:igor_sysoev:nginx:$1/
match http m|^HTTP/1\.[01] \d\d\d .*?\r\nServer: nginx\r\n|s p/nginx/ cpe:/a:igor_sysoev:nginx/
match http m|^HTTP/1\.[01] \d\d\d .*?\r\nServer: Apache/(\d[\d.]*) \(([^)\r\n]+)\)|s p/Apache httpd/ v/$1/ i/($2)/ cpe:/a:apache:http_server:$1/
match http m|^HTTP/1\.[01] \d\d\d .*?\r\nServer: Apache/(\d[\d.]*)|s p/Apache httpd/ v/$1/ cpe:/a:apache:http_server:$1/
match http m|^HTTP/1\.[01] \d\d\d .*?\r\nServer: Apache\r\n|s p/Apache httpd/ cpe:/a:apache:http_server/
softmatch http m|^HTTP/1\.[01] \d\d\d |
# Redis (RESP): a request it cannot parse as a command gets an error line "-ERR ...".
match redis m|^-ERR [^\r\n]*'get'[^\r\n]*\r\n|i p/Redis key-value store/
match redis m|^-ERR unknown command [^\r\n]*\r\n| p/Redis key-value store/

Probe TCP RedisPing q|PING\r\n|
rarity 3
ports 6379,6380
# Redis (RESP): PING is answered with the simple string "+PONG", or an error when a password is set.
match redis m|^\+PONG\r\n| p/Redis key-value store/
match redis m|^-NOAUTH [^\r\n]*\r\n| p/Redis key-value store/ i/authentication required/

Probe TCP TLSClientHello q|\x16\x03\x01\x00\x6f\x01\x00\x00\x6b\x03\x03\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\x3e\x3f\x00\x00\x18\xc0\x2b\xc0\x2f\xc0\x2c\xc0\x30\xcc\xa9\xcc\xa8\xc0\x13\xc0\x14\x00\x9c\x00\x9d\x00\x2f\x00\x35\x01\x00\x00\x2a\x00\x0a\x00\x08\x00\x06\x00\x1d\x00\x17\x00\x18\x00\x0b\x00\x02\x01\x00\x00\x0d\x00\x14\x00\x12\x04\x03\x08\x04\x04\x01\x05\x03\x08\x05\x05\x01\x08\x06\x06\x01\x02\x01|
rarity 1
ports 443,465,636,853,993,995,4443,8443,9443
# TLS, RFC 8446 section 5.1: a record of type 22 (handshake) whose first message is a
# ServerHello (2), or type 21 (alert), each with legacy record version 3.x.
match ssl m|^\x16\x03[\x00-\x04]..\x02|s
match ssl m|^\x15\x03[\x00-\x04]\x00\x02[\x01\x02]|s

# DNS, RFC 1035 section 4.1: a query (id 6, RD) for the TXT record (16) "version.bind" in class
# CHAOS (3), which BIND, dnsmasq and others answer with their name and version.
Probe UDP DNSVersionBindReq q|\0\x06\x01\0\0\x01\0\0\0\0\0\0\x07version\x04bind\0\0\x10\0\x03|
rarity 1
ports 53
# dnsmasq answers "dnsmasq-<version>" (its CHAOS records, dnsmasq(8)).
match domain m|^\0\x06[\x80-\xff].*\x07version\x04bind\0\0\x10\0\x03.*dnsmasq-([\w.]+)|s p/dnsmasq/ v/$1/ cpe:/a:thekelleys:dnsmasq:$1/
# Any response (QR set) to our id: a DNS server.
match domain m|^\0\x06[\x80-\xff]|s

# NTP, RFC 5905 section 7.3: a 48-byte client request (LI 3, version 4, mode 3); a server
# answers in mode 4, leap indicator 3 while it is not synchronised.
Probe UDP NTPRequest q|\xe3\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0|
rarity 5
ports 123
match ntp m|^\xe4.{47}$|s p/NTP/ v/v4/ i/unsynchronized/
match ntp m|^[\x24\x64\xa4].{47}$|s p/NTP/ v/v4/

# SNMP, RFC 1157 section 4.1: a version-1 GetRequest for sysName.0 (1.3.6.1.2.1.1.5.0,
# RFC 1213) with the community "public"; an agent that lets it read answers a GetResponse (0xa2).
Probe UDP SNMPv1public q|0\x29\x02\x01\0\x04\x06public\xa0\x1c\x02\x04\0\0\0\x01\x02\x01\0\x02\x01\0\x30\x0e\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x05\0\x05\0|
rarity 4
ports 161
match snmp m|^0.{1,3}\x02\x01\0\x04\x06public\xa2|s p/SNMPv1 server/ i/public/
)probes";

}  // namespace

std::string_view builtin_service_probes_text() { return builtin_text; }

}  // namespace flagscan
