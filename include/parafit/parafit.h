// parafit/parafit.h — every public header of the library, for programs that want them all.
//
//   data      dataset.h csv.h npy.h table.h
//   models    model.h formula.h autodiff.h jet.h mlp.h
//   solvers   problem.h termination.h levenberg_marquardt.h fit.h optimizer.h lbfgs.h train.h trainer.h
//   results   statistics.h report.h model_file.h mlp_file.h
//   parallel  context.h communicator.h thread_communicator.h distributed.h exact_sum.h
//
// parafit/mpi_communicator.h is left out: it includes <mpi.h>, which only an MPI build (and an MPI
// compiler setup) provides; include it yourself when PARAFIT_HAVE_MPI is defined.
#pragma once

#include "parafit/autodiff.h"
#include "parafit/batch.h"
#include "parafit/communicator.h"
#include "parafit/context.h"
#include "parafit/csv.h"
#include "parafit/dataset.h"
#include "parafit/diagnostics.h"
#include "parafit/distributed.h"
#include "parafit/error.h"
#include "parafit/exact_sum.h"
#include "parafit/fit.h"
#include "parafit/formula.h"
#include "parafit/global_fit.h"
#include "parafit/html_report.h"
#include "parafit/jet.h"
#include "parafit/lbfgs.h"
#include "parafit/levenberg_marquardt.h"
#include "parafit/loss.h"
#include "parafit/mlp.h"
#include "parafit/mlp_file.h"
#include "parafit/model.h"
#include "parafit/model_file.h"
#include "parafit/npy.h"
#include "parafit/optimizer.h"
#include "parafit/problem.h"
#include "parafit/report.h"
#include "parafit/statistics.h"
#include "parafit/table.h"
#include "parafit/termination.h"
#include "parafit/thread_communicator.h"
#include "parafit/train.h"
#include "parafit/trainer.h"
