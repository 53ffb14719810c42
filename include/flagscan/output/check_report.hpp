// What every output says of the weakness checks' findings (--checks), as nmap reports its scripts.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "flagscan/engine/results.hpp"

namespace flagscan {

// nmap's script output under a port in the normal report: "|_id: output" for one line, else
// "| id: first", "| ...", "|_last". With evidence, its lines follow the output, indented under
// "evidence:" (as nmap indents a script's tables). Each line ends with '\n'.
std::string script_lines(std::string_view id, std::string_view output, const std::vector<std::string>& evidence = {});

// The port's findings as script lines (with their evidence when `evidence`); "" when none.
std::string check_lines(const Results& results, std::uint64_t index, bool evidence);

// XML, inside <port> after <service>: a <script id="..." output="..."> per finding, its
// evidence as <table key="evidence"> of <elem> (nmap.dtd's script content).
void write_check_scripts(std::ostream& out, const Results& results, std::uint64_t index);

// JSON lines: ',"checks":[{"id":..,"output":..,"evidence":[..]},...]' for a port with
// findings, "" for one without.
std::string checks_json(const Results& results, std::uint64_t index);

}  // namespace flagscan
