// flagscan detect's reports: one table line per alert raised, JSON lines (-oJ), the closing summary.
#pragma once

#include <ostream>
#include <string>

#include "flagscan/detect/detector.hpp"

namespace flagscan {

// "2026-12-02T21:00:00.123456Z" for microseconds since the epoch.
std::string iso_time(Micros since_epoch);
// "1-1100,3306" for the ports set in BITS ("" when none).
std::string port_set_text(const PortSet& ports);

// "ALERT 3 10.77.30.1 -> 10.77.30.2 syn vertical ports 1-7 (7 ports) 2.0 pps tool nmap", as raised.
void write_alert_line(std::ostream& out, const Alert& alert);
// The final state, a few indented lines, in the end-of-run table.
void write_alert_block(std::ostream& out, const Alert& alert);
// {"type":"alert","id":N,"sources":[...],"shape":...,"kind":...,"targets":[...],"target_count":N,
//  "ports":"1-1100","port_count":N,"open":"22,80","probes":N,"rate_pps":R,"first":"...","last":"...",
//  "slow":B,"distributed":B,"tool":"...","tool_evidence":"...","note":"...","handshakes":N}
void write_alert_json(std::ostream& out, const Alert& alert);
// {"type":"summary","packets":N,"sources_tracked":N,"sources_evicted":N,"alerts":N,"alerts_cut":N}
void write_summary_json(std::ostream& out, const DetectStats& stats);
void write_summary_normal(std::ostream& out, const DetectStats& stats);

}  // namespace flagscan
