// libFuzzer target: the CSV reader (read_csv_header, read_csv) on arbitrary file contents.
//
// The contract: a bad file is a parafit::Error naming the file, never a crash, hang, overflow,
// leak or undefined behaviour. Each input is read whole, with a named column list and
// drop_missing, and as shards, so that the delimiter detection, quoting, column selection and the
// shard boundary scan all see it. A sharded read must give the same rows as the whole read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_file.h"
#include "parafit/csv.h"
#include "parafit/error.h"

namespace {

parafit::fuzz::ScratchFile scratch(".csv");

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = scratch.write(data, size);
  std::vector<std::string> header;
  try {
    header = parafit::read_csv_header(path);
  } catch (const parafit::Error&) {
  }
  std::size_t whole_rows = 0;
  bool whole_ok = false;
  try {
    whole_rows = parafit::read_csv(path).rows();
    whole_ok = true;
  } catch (const parafit::Error&) {
  }
  // The last column only, by name, dropping missing values.
  if (!header.empty()) {
    parafit::CsvOptions some;
    some.columns = {header.back()};
    some.drop_missing = true;
    try {
      (void)parafit::read_csv(path, some);
    } catch (const parafit::Error&) {
    }
  }
  // Three shards: together they hold the rows of the whole read.
  std::size_t shard_rows = 0;
  bool shards_ok = true;
  for (std::size_t r = 0; r < 3; ++r) {
    parafit::CsvOptions shard;
    shard.shard_index = r;
    shard.shard_count = 3;
    try {
      shard_rows += parafit::read_csv(path, shard).rows();
    } catch (const parafit::Error&) {
      shards_ok = false;
    }
  }
  if (whole_ok && shards_ok && shard_rows != whole_rows) std::abort();
  return 0;
}
