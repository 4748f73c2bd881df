#include "test_seam.h"

namespace parafit::cli {

TestSeam& test_seam() {
  static TestSeam seam;
  return seam;
}

}  // namespace parafit::cli
