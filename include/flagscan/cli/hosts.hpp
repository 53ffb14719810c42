// The hosts a command line names: its targets resolved, minus --exclude.
#pragma once

#include <ostream>

#include "flagscan/cli/options.hpp"
#include "flagscan/net/result.hpp"
#include "flagscan/targets/address_set.hpp"
#include "flagscan/targets/ipv6_targets.hpp"

namespace flagscan {

// The targets' addresses minus the excluded ones. A target name that does not resolve is a
// warning line on `err` ("flagscan: warning: targets.txt line 3: cannot resolve 'gone.example';
// skipping it") and the others go on, as nmap does; when no target resolves, or none is left
// after --exclude, it is an error. Reserved blocks (RFC 6890) that a target reaches only as part
// of a larger range are left out (multicast and broadcast only, with --include-reserved), said in
// one line on `err`. An --exclude name must resolve (else it could not protect). Exclusions of
// the other family (IPv6 ones in an IPv4 scan: a blocklist may hold both) are passed over.
Result<AddressSet> command_line_hosts(const ScanConfig& config, const Resolver& resolve, std::ostream& err);

// The same for an IPv6 scan (config.ipv6): the targets in ipv6_targets.hpp's forms, names resolved
// to IPv6 (AAAA), minus the IPv6 --exclude expressions; sorted and disjoint. An IPv4 target is an
// error (no mix in one scan), and so is a prefix or range of more than AddressBook::kCapacity.
Result<Ipv6Ranges> command_line_hosts6(const ScanConfig& config, const Resolver6& resolve, std::ostream& err);

}  // namespace flagscan
