// parafit/error.h — the one exception type for bad user input.
//
// Library functions throw parafit::Error when what the user gave them (a file, a column name, a
// model name, a flag value) is wrong. The message is complete and ready to print: it says where
// (file:line:column, the flag, the offending text) and what is wrong. Numerical failure of a fit is
// not an Error: it goes into the solver's Summary.
#pragma once

#include <stdexcept>
#include <string>

namespace parafit {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace parafit
