// parafit — fast parallel nonlinear regression from the command line (see run_main.cpp).
#include "run_main.h"

int main(int argc, char** argv) { return parafit::cli::run_main(argc, argv); }
