// SPDX-License-Identifier: GPL-2.0-only
// The shim's one rule: EPOLLROUNDROBIN joins an EPOLLEXCLUSIVE add, on a
// kernel that has it, and nothing else changes.
#include <gtest/gtest.h>

#include "rewrite.h"

namespace {

using epoll_rr::add_roundrobin;

TEST(ShimRewrite, ExclusiveAddGainsRoundRobin)
{
	EXPECT_EQ(add_roundrobin(EPOLL_CTL_ADD, EPOLLIN | EPOLLEXCLUSIVE, true),
		  EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN);
}

TEST(ShimRewrite, KernelWithoutItIsLeftAlone)
{
	EXPECT_EQ(add_roundrobin(EPOLL_CTL_ADD, EPOLLIN | EPOLLEXCLUSIVE, false),
		  uint32_t(EPOLLIN | EPOLLEXCLUSIVE));
}

TEST(ShimRewrite, OnlyExclusiveAdds)
{
	// Plain items, and MOD/DEL, where EPOLLEXCLUSIVE is EINVAL anyway.
	EXPECT_EQ(add_roundrobin(EPOLL_CTL_ADD, EPOLLIN | EPOLLET, true), uint32_t(EPOLLIN | EPOLLET));
	EXPECT_EQ(add_roundrobin(EPOLL_CTL_MOD, EPOLLIN | EPOLLEXCLUSIVE, true),
		  uint32_t(EPOLLIN | EPOLLEXCLUSIVE));
	EXPECT_EQ(add_roundrobin(EPOLL_CTL_DEL, 0, true), 0u);
}

TEST(ShimRewrite, AlreadyRoundRobinStaysSo)
{
	uint32_t ev = EPOLLIN | EPOLLEXCLUSIVE | EPOLLROUNDROBIN;
	EXPECT_EQ(add_roundrobin(EPOLL_CTL_ADD, ev, true), ev);
	EXPECT_EQ(add_roundrobin(EPOLL_CTL_ADD, ev, false), ev);
}

} // namespace
