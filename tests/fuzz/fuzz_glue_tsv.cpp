// GLUE TSV files: every task's column layout and label parsing on the same bytes.
#include "fuzz/fuzz_support.hpp"
#include "qsim/tasks/glue_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static qsim::fuzz::InputFile file("dev.tsv");
  const std::string& path = file.write(data, size);
  for (qsim::tasks::GlueTask task : qsim::tasks::all_glue_tasks()) {
    qsim::fuzz::expect_clean(path, [&] { (void)qsim::tasks::read_glue_tsv(task, path); });
  }
  return 0;
}
