#include "mmtrain/dist/process_group.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <sstream>
#include <vector>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "mmtrain/errors.h"

namespace mmtrain::dist {

namespace {

const char* env_or_null(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

int parse_env_int(const char* name, const char* value, int min_value) {
  char* end = nullptr;
  errno = 0;
  const long parsed = std::strtol(value, &end, 10);
  if (end == value || *end != '\0' || errno == ERANGE || parsed < min_value || parsed > 1 << 30) {
    throw ConfigError(std::string("environment variable ") + name + "=\"" + value +
                      "\": expected an integer >= " + std::to_string(min_value));
  }
  return static_cast<int>(parsed);
}

int env_int(const char* name, int fallback, int min_value) {
  const char* value = env_or_null(name);
  return value != nullptr ? parse_env_int(name, value, min_value) : fallback;
}

double seconds(std::chrono::milliseconds duration) { return duration.count() / 1000.0; }

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string format_seconds(double value) {
  std::ostringstream out;
  out.precision(value < 10 ? 2 : 3);
  out << value << " s";
  return out.str();
}

// c10::Error's what() carries a C++ backtrace and Gloo prefixes its source location; the user
// needs neither to learn that a peer went away.
std::string short_message(const std::exception& error) {
  std::string message;
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) {
    message = c10_error->what_without_backtrace();
  } else {
    message = error.what();
  }
  if (!message.empty() && message.front() == '[') {
    const auto close = message.find("] ");
    if (close != std::string::npos && message.find(':') < close) message.erase(0, close + 2);
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ' || message.back() == '.')) {
    message.pop_back();
  }
  return message;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The address of the interface the kernel would route MASTER_ADDR through. Binding Gloo there
// works on multi-host jobs where the hostname resolves to 127.0.1.1 (Debian's default /etc/hosts),
// which is what PyTorch's default device would pick. A UDP connect sends no packet.
std::string local_address_towards(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return "";
  std::string local;
  for (addrinfo* candidate = found; candidate != nullptr && local.empty(); candidate = candidate->ai_next) {
    const int fd = socket(candidate->ai_family, SOCK_DGRAM, 0);
    if (fd < 0) continue;
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (connect(fd, candidate->ai_addr, candidate->ai_addrlen) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* raw = address.ss_family == AF_INET
                            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&address)->sin_addr)
                            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr);
      if (inet_ntop(address.ss_family, raw, text, sizeof(text)) != nullptr) local = text;
    }
    close(fd);
  }
  freeaddrinfo(found);
  return local;
}

std::shared_ptr<gloo::transport::Device> create_gloo_device(const DistEnv& env) {
  if (!env.socket_interface.empty()) {
    return c10d::ProcessGroupGloo::createDeviceForInterface(env.socket_interface);
  }
  if (is_loopback(env.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr);
  const std::string local = local_address_towards(env.master_addr, env.master_port);
  if (!local.empty()) return c10d::ProcessGroupGloo::createDeviceForHostname(local);
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// Gloo in LibTorch 1.13 rejects bfloat16, int16 and bool. Collectives that only move bytes
// (gather, broadcast) can carry them as a supported type of the same width.
torch::Tensor as_gloo_copyable(const torch::Tensor& tensor) {
  const auto type = tensor.scalar_type();
  if (type == torch::kBFloat16 || type == torch::kShort) return tensor.view(torch::kHalf);
  if (tensor.scalar_type() == torch::kBool) return tensor.view(torch::kByte);
  return tensor;
}

// Gloo here moves host memory: a tensor on another device (CUDA) is copied to the host, goes
// through `collective` there, and is copied back.
template <typename Collective>
void through_host(torch::Tensor& tensor, Collective collective) {
  torch::NoGradGuard no_grad;
  auto host = tensor.detach().cpu().contiguous();
  collective(host);
  tensor.copy_(host);
}

std::string describe(const torch::Tensor& tensor) {
  std::ostringstream out;
  out << tensor.scalar_type() << " " << tensor.sizes();
  return out.str();
}

}  // namespace

DistEnv dist_env_from_environment() {
  DistEnv env;
  env.world_size = env_int("WORLD_SIZE", 1, 1);
  const char* rank = env_or_null("RANK");
  if (rank == nullptr && env.world_size > 1) {
    throw ConfigError("environment variable WORLD_SIZE=" + std::to_string(env.world_size) +
                      " but RANK is not set: start every process with RANK=0..WORLD_SIZE-1 (torchrun does)");
  }
  env.rank = rank != nullptr ? parse_env_int("RANK", rank, 0) : 0;
  if (env.rank >= env.world_size) {
    throw ConfigError("environment variable RANK=" + std::to_string(env.rank) + " is not below WORLD_SIZE=" +
                      std::to_string(env.world_size));
  }
  // Without torchrun's local variables, assume one host: every rank is local.
  env.local_world_size = env_int("LOCAL_WORLD_SIZE", env.world_size, 1);
  env.local_rank = env_int("LOCAL_RANK", env.rank % env.local_world_size, 0);
  if (env.local_rank >= env.local_world_size || env.local_world_size > env.world_size) {
    throw ConfigError("environment variables LOCAL_RANK=" + std::to_string(env.local_rank) +
                      ", LOCAL_WORLD_SIZE=" + std::to_string(env.local_world_size) + ", WORLD_SIZE=" +
                      std::to_string(env.world_size) +
                      ": expected LOCAL_RANK < LOCAL_WORLD_SIZE <= WORLD_SIZE");
  }
  if (const char* addr = env_or_null("MASTER_ADDR")) env.master_addr = addr;
  env.master_port = env_int("MASTER_PORT", 0, 0);
  if (const char* interface = env_or_null("GLOO_SOCKET_IFNAME")) env.socket_interface = interface;
  if (env.world_size > 1) {
    if (env.master_addr.empty()) {
      throw ConfigError("environment variable WORLD_SIZE=" + std::to_string(env.world_size) +
                        " but MASTER_ADDR is not set: every rank needs rank 0's host (127.0.0.1 on one machine)");
    }
    if (env.master_port < 1 || env.master_port > 65535) {
      const char* port = env_or_null("MASTER_PORT");
      throw ConfigError(std::string("environment variable MASTER_PORT=\"") + (port ? port : "") +
                        "\": WORLD_SIZE > 1 needs rank 0's store port in 1..65535");
    }
  }
  return env;
}

struct PendingCollective::State {
  c10::intrusive_ptr<c10d::Work> work;
  std::string what;  // "allreduce_sum_ of Float [3, 4]", for the error
  int world_size = 1, rank = 0;
  std::chrono::milliseconds operation_timeout{0};
  std::chrono::steady_clock::time_point started;
};

namespace {

// Turns a failed collective into a DistError that says which one, where, and what usually causes
// it; Gloo's own text names only socket addresses.
[[noreturn]] void throw_collective_error(const std::string& what, int rank, int world_size,
                                         std::chrono::milliseconds operation_timeout, double elapsed,
                                         const std::exception& error) {
  const std::string message = short_message(error);
  std::ostringstream out;
  out << what << " failed on rank " << rank << " of " << world_size << " after " << format_seconds(elapsed)
      << ": " << message << ".";
  auto mentions = [&](const char* text) { return message.find(text) != std::string::npos; };
  if (mentions("imed out") || mentions("imeout")) {
    out << " No answer within operation_timeout " << format_seconds(seconds(operation_timeout))
        << ": a rank is stuck or exited, or the ranks called different collectives.";
  } else if (mentions("onnection") || mentions("peer") || mentions("pipe") || mentions("Socket")) {
    out << " Another rank probably exited or crashed";
    if (world_size == 2) out << " (the only peer is rank " << 1 - rank << ")";
    out << "; its log holds the first error.";
  }
  throw DistError(out.str());
}

void wait_for(PendingCollective::State& state) {
  try {
    state.work->wait();
  } catch (const std::exception& error) {
    throw_collective_error(state.what, state.rank, state.world_size, state.operation_timeout,
                           seconds_since(state.started), error);
  }
}

}  // namespace

PendingCollective::PendingCollective() = default;
PendingCollective::PendingCollective(std::unique_ptr<State> state) : state_(std::move(state)) {}
PendingCollective::~PendingCollective() = default;
PendingCollective::PendingCollective(PendingCollective&&) noexcept = default;
PendingCollective& PendingCollective::operator=(PendingCollective&&) noexcept = default;

bool PendingCollective::is_pending() const { return state_ != nullptr; }

void PendingCollective::wait() {
  if (!state_) return;
  auto state = std::move(state_);
  wait_for(*state);
}

struct ProcessGroup::Impl {
  DistEnv env;
  ProcessGroupOptions options;
  c10::intrusive_ptr<c10d::Store> store;  // shared with the groups made by new_group()
  std::shared_ptr<gloo::transport::Device> device;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
  int groups_created = 0;

  void connect_gloo(const std::string& prefix) {
    try {
      auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.operation_timeout);
      gloo_options->devices.push_back(device);
      gloo_options->threads = options.threads;
      gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>(prefix, store),
                                                         env.rank, env.world_size, gloo_options);
    } catch (const std::exception& error) {
      throw DistError("rank " + std::to_string(env.rank) + ": Gloo could not connect to its " +
                      std::to_string(env.world_size - 1) + " peer(s) after the rendezvous at " + env.master_addr +
                      ":" + std::to_string(env.master_port) + ": " + short_message(error) +
                      (env.socket_interface.empty() ? " (set GLOO_SOCKET_IFNAME to the interface the hosts share)"
                                                    : ""));
    }
  }

  using Launch = std::function<c10::intrusive_ptr<c10d::Work>()>;

  std::unique_ptr<PendingCollective::State> start(std::string what, const Launch& launch) {
    auto state = std::make_unique<PendingCollective::State>();
    state->what = std::move(what);
    state->rank = env.rank;
    state->world_size = env.world_size;
    state->operation_timeout = options.operation_timeout;
    state->started = std::chrono::steady_clock::now();
    try {
      state->work = launch();
    } catch (const std::exception& error) {
      throw_collective_error(state->what, env.rank, env.world_size, options.operation_timeout,
                             seconds_since(state->started), error);
    }
    return state;
  }

  void run(std::string what, const Launch& launch) {
    wait_for(*start(std::move(what), launch));
  }
};

namespace {

// Rank 0 serves the store; every rank announces itself under its rank and its world size, so a
// missing rank, a rank started twice or a disagreement on WORLD_SIZE is named instead of
// surfacing as a bare timeout inside Gloo's rendezvous.
void check_membership(c10d::Store& store, const DistEnv& env, std::chrono::milliseconds timeout,
                      const std::string& where) {
  const std::string own = "mmtrain/rank/" + std::to_string(env.rank);
  if (store.add(own + "/count", 1) != 1) {
    throw DistError("rendezvous at " + where + ": rank " + std::to_string(env.rank) +
                    " joined twice: two processes were started with RANK=" + std::to_string(env.rank));
  }
  const std::string world = std::to_string(env.world_size);
  store.set(own + "/world_size", std::vector<uint8_t>(world.begin(), world.end()));
  std::vector<std::string> keys;
  for (int rank = 0; rank < env.world_size; ++rank) {
    keys.push_back("mmtrain/rank/" + std::to_string(rank) + "/world_size");
  }
  try {
    store.wait(keys, timeout);
  } catch (const std::exception& error) {
    std::string missing;
    for (int rank = 0; rank < env.world_size; ++rank) {
      if (!store.check({keys[rank]})) missing += (missing.empty() ? "" : ", ") + std::to_string(rank);
    }
    throw DistError("rendezvous at " + where + ": rank(s) " + missing + " did not join within " +
                    format_seconds(seconds(timeout)) + " (this is rank " + std::to_string(env.rank) +
                    " of WORLD_SIZE=" + world + "); check that every rank was started with the same " +
                    "WORLD_SIZE, MASTER_ADDR and MASTER_PORT (store: " + short_message(error) + ")");
  }
  for (int rank = 0; rank < env.world_size; ++rank) {
    const auto value = store.get(keys[rank]);
    const std::string theirs(value.begin(), value.end());
    if (theirs != world) {
      throw DistError("rendezvous at " + where + ": rank " + std::to_string(rank) + " has WORLD_SIZE=" + theirs +
                      ", rank " + std::to_string(env.rank) + " has WORLD_SIZE=" + world +
                      ": start every rank with the same WORLD_SIZE");
    }
  }
}

}  // namespace

ProcessGroup::ProcessGroup(const DistEnv& env, const ProcessGroupOptions& options)
    : rank_(env.rank), world_size_(env.world_size) {
  TORCH_CHECK(env.world_size >= 1 && env.rank >= 0 && env.rank < env.world_size, "ProcessGroup: rank ", env.rank,
              " outside world_size ", env.world_size);
  TORCH_CHECK(options.threads >= 1, "ProcessGroup: threads must be >= 1, got ", options.threads);
  if (env.world_size == 1) return;

  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->options = options;
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);

  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(env.master_port);
  store_options.isServer = env.rank == 0;
  // Membership is checked below with messages naming the missing rank, not by the store.
  store_options.numWorkers = c10::nullopt;
  store_options.waitWorkers = false;
  store_options.timeout = options.connect_timeout;
  try {
    impl->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
  } catch (const std::exception& error) {
    if (env.rank == 0) {
      throw DistError("rank 0 cannot serve the rendezvous store on " + where + ": " + short_message(error) +
                      " (is MASTER_PORT in use by another job?)");
    }
    throw DistError("rank " + std::to_string(env.rank) + " cannot reach the rendezvous store at " + where +
                    " within connect_timeout " + format_seconds(seconds(options.connect_timeout)) + ": " +
                    short_message(error) +
                    ". Is rank 0 running, and do all ranks use the same MASTER_ADDR/MASTER_PORT?");
  }
  check_membership(*impl->store, env, options.connect_timeout, where);

  try {
    impl->device = create_gloo_device(env);
  } catch (const std::exception& error) {
    throw DistError("rank " + std::to_string(env.rank) + ": Gloo cannot bind to " +
                    (env.socket_interface.empty() ? "the interface towards MASTER_ADDR " + env.master_addr
                                                  : "GLOO_SOCKET_IFNAME=" + env.socket_interface) +
                    ": " + short_message(error));
  }
  impl->connect_gloo("gloo");
  impl_ = std::move(impl);
}

ProcessGroup::ProcessGroup(int rank, int world_size, std::unique_ptr<Impl> impl)
    : rank_(rank), world_size_(world_size), impl_(std::move(impl)) {}

std::unique_ptr<ProcessGroup> ProcessGroup::new_group() {
  if (!impl_) return std::unique_ptr<ProcessGroup>(new ProcessGroup(rank_, world_size_, nullptr));
  auto impl = std::make_unique<Impl>();
  impl->env = impl_->env;
  impl->options = impl_->options;
  impl->store = impl_->store;
  impl->device = impl_->device;
  // Every rank numbers its groups in creation order, so equal prefixes meet in the store.
  impl->connect_gloo("gloo/" + std::to_string(++impl_->groups_created));
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(rank_, world_size_, std::move(impl)));
}

ProcessGroup::~ProcessGroup() = default;

void ProcessGroup::allreduce_sum_(torch::Tensor& tensor) {
  TORCH_CHECK(tensor.defined(), "allreduce_sum_: expected a defined tensor");
  if (!impl_) return;
  if (!tensor.device().is_cpu()) return through_host(tensor, [&](torch::Tensor& host) { allreduce_sum_(host); });
  const bool needs_float = tensor.scalar_type() == torch::kBFloat16;
  if (!needs_float && tensor.is_contiguous()) {
    allreduce_sum_async_(tensor).wait();
    return;
  }
  auto staging = needs_float ? tensor.to(torch::kFloat).contiguous() : tensor.contiguous();
  allreduce_sum_async_(staging).wait();
  tensor.copy_(staging);
}

PendingCollective ProcessGroup::allreduce_sum_async_(torch::Tensor& tensor) {
  TORCH_CHECK(tensor.defined() && tensor.device().is_cpu() && tensor.is_contiguous(),
              "allreduce_sum_async_: expected a defined contiguous CPU tensor");
  if (!impl_) return PendingCollective();
  const std::string what = "allreduce_sum_ of " + describe(tensor);
  return PendingCollective(impl_->start(what, [&] {
    std::vector<torch::Tensor> tensors{tensor};
    return impl_->gloo->allreduce(tensors);
  }));
}

torch::Tensor ProcessGroup::allgather(const torch::Tensor& local) {
  TORCH_CHECK(local.defined() && local.dim() >= 1, "allgather: expected a defined tensor with at least one dimension");
  if (!local.device().is_cpu()) return allgather(local.detach().cpu()).to(local.device());
  auto input = local.detach().contiguous();
  if (!impl_) return input.clone();
  auto sizes = input.sizes().vec();
  const int64_t rows = sizes[0];
  sizes[0] *= world_size_;
  auto gathered = torch::empty(sizes, input.options());
  // Gloo copies each rank's part out of its own flat buffer, so row blocks of the result serve
  // as the per-rank outputs and no concatenation is needed.
  std::vector<std::vector<torch::Tensor>> outputs(1);
  for (int rank = 0; rank < world_size_; ++rank) {
    outputs[0].push_back(as_gloo_copyable(gathered.narrow(0, rank * rows, rows)));
  }
  std::vector<torch::Tensor> inputs{as_gloo_copyable(input)};
  impl_->run("allgather of " + describe(input), [&] { return impl_->gloo->allgather(outputs, inputs); });
  return gathered;
}

void ProcessGroup::broadcast_(torch::Tensor& tensor, int root) {
  TORCH_CHECK(tensor.defined(), "broadcast_: expected a defined tensor");
  TORCH_CHECK(root >= 0 && root < world_size_, "broadcast_: root ", root, " outside world_size ", world_size_);
  if (!impl_) return;
  if (!tensor.device().is_cpu()) return through_host(tensor, [&](torch::Tensor& host) { broadcast_(host, root); });
  auto staging = tensor.is_contiguous() ? tensor : tensor.contiguous();
  std::vector<torch::Tensor> tensors{as_gloo_copyable(staging)};
  c10d::BroadcastOptions options;
  options.rootRank = root;
  impl_->run("broadcast_ from rank " + std::to_string(root) + " of " + describe(tensor),
             [&] { return impl_->gloo->broadcast(tensors, options); });
  if (!staging.is_same(tensor)) tensor.copy_(staging);
}

void ProcessGroup::barrier() {
  if (!impl_) return;
  impl_->run("barrier", [&] { return impl_->gloo->barrier(); });
}

}  // namespace mmtrain::dist
