// The Work of MPI requests: test() and wait() poll the requests and the failure channel.
#include <fmt/format.h>

#include <exception>

#include "state.h"

namespace parafit::mpi_backend {
namespace {

class RequestWork final : public Work::Impl {
 public:
  RequestWork(std::shared_ptr<State> state, RequestKind kind, std::vector<MPI_Request> requests,
              std::vector<int> expected, std::string what)
      : state_(std::move(state)),
        kind_(kind),
        requests_(std::move(requests)),
        expected_(std::move(expected)),
        what_(std::move(what)) {}
  ~RequestWork() override { abandon(); }

  bool test() override {
    if (error_) std::rethrow_exception(error_);
    if (done_) return true;
    try {
      if (progress()) return done_ = true;
      poll(*state_);
      if (state_->failure) throw rank_failed(*state_->failure);
      return false;
    } catch (...) {
      abandon();
      error_ = std::current_exception();
      throw;
    }
  }

  void wait() override {
    Poller poller(state_->timeout);
    while (!test()) {
      if (poller.expired()) {
        abandon();
        try {
          time_out(*state_, what_);
        } catch (...) {
          error_ = std::current_exception();
          throw;
        }
      }
      poller.pause();
    }
  }

 private:
  // Tests the requests in order; true once all have completed. Throws Error for an MPI error or a
  // received piece of the wrong size.
  bool progress() {
    for (std::size_t i = 0; i < requests_.size(); ++i) {
      if (requests_[i] == MPI_REQUEST_NULL) continue;
      int done = 0;
      MPI_Status status;
      check(MPI_Test(&requests_[i], &done, &status), [&] { return what_; });
      if (!done) return false;
      if (kind_ == RequestKind::kReceive) {
        int received = 0;
        check(MPI_Get_count(&status, MPI_BYTE, &received), "MPI_Get_count");
        if (received != expected_[i]) throw Error(fmt::format("{}: the message has {} bytes", what_, received));
      }
    }
    return true;
  }

  // Hands the requests that have not completed to the communicator (see mpi_communicator.h).
  void abandon() {
    for (MPI_Request& r : requests_) {
      if (r == MPI_REQUEST_NULL) continue;
      if (kind_ == RequestKind::kCollective) {
        state_->abandoned_collectives.push_back(r);
      } else {
        if (kind_ == RequestKind::kReceive) MPI_Cancel(&r);
        state_->abandoned_messages.push_back(r);
      }
      r = MPI_REQUEST_NULL;
    }
  }

  std::shared_ptr<State> state_;
  RequestKind kind_;
  std::vector<MPI_Request> requests_;
  std::vector<int> expected_;
  std::string what_;
  bool done_ = false;
  std::exception_ptr error_;
};

}  // namespace

Work request_work(std::shared_ptr<State> state, RequestKind kind, std::vector<MPI_Request> requests,
                  std::vector<int> expected, std::string what) {
  return Work(std::make_unique<RequestWork>(std::move(state), kind, std::move(requests), std::move(expected),
                                            std::move(what)));
}

}  // namespace parafit::mpi_backend
