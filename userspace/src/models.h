// SPDX-License-Identifier: GPL-2.0-only
// The accept models acceptlab can run: names, descriptions, and whether the
// running kernel supports each.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace lab {

enum class Model {
	blocking,                 // accept() on a shared blocking socket
	poll,                     // poll() per worker over the socket and its connections
	epoll,                    // epoll per worker, shared socket, plain
	epoll_exclusive,          //   ... with EPOLLEXCLUSIVE
	epoll_roundrobin,         //   ... with EPOLLEXCLUSIVE | EPOLLROUNDROBIN
	epoll_shared,             // one epoll for all workers, EPOLLEXCLUSIVE
	epoll_shared_fifo,        //   ... created with EPOLL_WAKE_FIFO
	reuseport,                // SO_REUSEPORT, one socket per worker
	reuseport_cbpf,           //   ... steered by a classic BPF program
	reuseport_ebpf_rr,        //   ... round-robin by an eBPF SK_REUSEPORT program
	uring,                    // io_uring per worker, single-shot accept
	uring_multishot,          //   ... multishot accept
	uring_multishot_roundrobin, //   ... with IORING_ACCEPT_ROUNDROBIN
};

struct ModelInfo {
	Model model;
	std::string_view name;
	std::string_view description;
};

std::span<const ModelInfo> all_models();
std::optional<Model> model_from_name(std::string_view name);
std::string_view model_name(Model m);

// One io_uring per worker.
bool is_uring(Model m);
// Workers that can hold connections in their poll or epoll set (--idle):
// poll and the models with one epoll per worker.
bool can_hold(Model m);
// Whether the workers hold their connections: poll whenever they send
// requests (that is the model), the others when asked (--hold).
bool holds(Model m, bool asked, unsigned request_bytes);

// Why the running kernel cannot run `m`, or nothing if it can.  Probes
// the real syscalls; never substitutes another model.
std::optional<std::string> unsupported_reason(Model m);

} // namespace lab
