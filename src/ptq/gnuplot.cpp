#include "gnuplot.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "detail/check.hpp"
#include "qsim/io/atomic_file.hpp"

namespace qsim::ptq::detail {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string gnuplot_binary() {
  const char* env = std::getenv("QSIM_GNUPLOT");
  return env != nullptr && *env != '\0' ? env : "gnuplot";
}

}  // namespace

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch == '\n' ? ' ' : ch;
  }
  return out + "\"";
}

std::vector<std::string> render_charts(const std::vector<Chart>& charts, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const fs::path base = fs::absolute(dir);
  std::string script = "set encoding utf8\n";
  for (const Chart& c : charts) {
    const std::string body = fmt::format("reset\nset termoption noenhanced\n{}\n", c.commands);
    script += fmt::format("set terminal svg size {},{} dynamic font 'sans,10' background '#ffffff'\nset output {}\n{}",
                          c.width, c.height, quoted((base / (c.name + ".svg")).string()), body);
    if (c.png) {
      script += fmt::format("set terminal pngcairo size {},{} font 'sans,10'\nset output {}\n{}", c.width, c.height,
                            quoted((base / (c.name + ".png")).string()), body);
    }
  }
  script += "set output\n";
  const fs::path script_path = base / "charts.gp", log_path = base / "gnuplot.log";
  io::write_file_atomically(script_path.string(), script);
  const std::string command = fmt::format("'{}' '{}' > '{}' 2>&1", gnuplot_binary(), script_path.string(), log_path.string());
  const int status = std::system(command.c_str());
  QSIM_CHECK(status == 0, IoError, "report: {} failed on {} (status {}; is gnuplot installed? apt install gnuplot-nox): {}",
             gnuplot_binary(), script_path.string(), status, read_text(log_path));
  std::vector<std::string> out;
  for (const Chart& c : charts) {
    const fs::path svg = base / (c.name + ".svg");
    QSIM_CHECK(fs::exists(svg), IoError, "report: gnuplot wrote no {}", svg.string());
    std::string text = read_text(svg);
    // Inline SVG: drop the XML prolog and doctype gnuplot starts the file with.
    const std::size_t root = text.find("<svg");
    out.push_back(root == std::string::npos ? text : text.substr(root));
  }
  return out;
}

}  // namespace qsim::ptq::detail
