// The command line's names for the library's options: library messages name options by their
// place in the specs ("trainer.batch", "start"; parafit/error.h), the command line by its flags.
#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace parafit::cli {

// The flag of a library option ("trainer.batch" -> "--batch"); the name itself if it has none.
std::string flag_of(std::string_view option);
// An exception's message with every marked option shown as its flag.
std::string message_with_flags(const std::exception& e);

}  // namespace parafit::cli
