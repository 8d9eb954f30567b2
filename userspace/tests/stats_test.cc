// SPDX-License-Identifier: GPL-2.0-only
// Known inputs with values computed by hand (or from published tables).
#include "stats.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace {

using lab::fairness;

TEST(Fairness, EvenDistribution)
{
	std::vector<uint64_t> c{10, 10, 10, 10};
	auto f = fairness(c);
	EXPECT_DOUBLE_EQ(f.jain, 1.0);
	EXPECT_DOUBLE_EQ(f.max_min, 1.0);
	EXPECT_DOUBLE_EQ(f.cv, 0.0);
	EXPECT_DOUBLE_EQ(f.chi2, 0.0);
	EXPECT_DOUBLE_EQ(f.chi2_p, 1.0);
}

TEST(Fairness, OneWorkerTakesAll)
{
	// The 2017 EPOLLEXCLUSIVE result: mean 10, deviations 30, -10, -10, -10.
	std::vector<uint64_t> c{40, 0, 0, 0};
	auto f = fairness(c);
	EXPECT_DOUBLE_EQ(f.jain, 0.25);                   // 1600 / (4 * 1600)
	EXPECT_EQ(f.max_min, std::numeric_limits<double>::infinity());
	EXPECT_NEAR(f.cv, std::sqrt(300.0) / 10, 1e-12);  // var (900 + 300) / 4
	EXPECT_DOUBLE_EQ(f.chi2, 120.0);                  // (900 + 3 * 100) / 10
	EXPECT_LT(f.chi2_p, 1e-20);
}

TEST(Fairness, Uneven)
{
	// The herd without EPOLLEXCLUSIVE: [24, 10, 5, 1], mean 10.
	std::vector<uint64_t> c{24, 10, 5, 1};
	auto f = fairness(c);
	EXPECT_NEAR(f.jain, 1600.0 / (4 * 702), 1e-12);   // 576 + 100 + 25 + 1
	EXPECT_DOUBLE_EQ(f.max_min, 24.0);
	EXPECT_NEAR(f.cv, std::sqrt(702.0 / 4 - 100) / 10, 1e-12);
	EXPECT_NEAR(f.chi2, (196 + 0 + 25 + 81) / 10.0, 1e-12);
	// With 3 dof the tail has a closed form: erfc(sqrt(x/2)) +
	// sqrt(2x/pi) exp(-x/2) = 1.2526e-6 for x = 30.2.
	double x = 30.2;
	EXPECT_NEAR(f.chi2_p, std::erfc(std::sqrt(x / 2)) +
			std::sqrt(2 * x / M_PI) * std::exp(-x / 2), 1e-15);
}

TEST(Fairness, RejectsEmptyInput)
{
	std::vector<uint64_t> none, zeros{0, 0};
	EXPECT_THROW(fairness(none), std::invalid_argument);
	EXPECT_THROW(fairness(zeros), std::invalid_argument);
}

TEST(ChiSquare, MatchesTables)
{
	// Critical values at the 5 % level.
	EXPECT_NEAR(lab::chi2_sf(3.841458820694124, 1), 0.05, 1e-12);
	EXPECT_NEAR(lab::chi2_sf(7.814727903251178, 3), 0.05, 1e-12);
	EXPECT_NEAR(lab::chi2_sf(18.30703805327515, 10), 0.05, 1e-12);
	// With 2 dof the tail is exactly exp(-x / 2).
	EXPECT_NEAR(lab::chi2_sf(2.0, 2), std::exp(-1.0), 1e-14);
	EXPECT_NEAR(lab::chi2_sf(0.5, 2), std::exp(-0.25), 1e-14);
	EXPECT_DOUBLE_EQ(lab::chi2_sf(0.0, 3), 1.0);
	EXPECT_THROW(lab::chi2_sf(1.0, 0), std::invalid_argument);
}

TEST(Percentile, NearestRank)
{
	std::vector<uint64_t> s(100);
	std::iota(s.begin(), s.end(), 1); // 1..100
	EXPECT_EQ(lab::percentile(s, 0), 1u);
	EXPECT_EQ(lab::percentile(s, 50), 50u);
	EXPECT_EQ(lab::percentile(s, 90), 90u);
	EXPECT_EQ(lab::percentile(s, 99), 99u);
	EXPECT_EQ(lab::percentile(s, 99.9), 100u);
	EXPECT_EQ(lab::percentile(s, 100), 100u);
	std::vector<uint64_t> one{7};
	EXPECT_EQ(lab::percentile(one, 99.9), 7u);
}

TEST(Percentile, RejectsBadInput)
{
	std::vector<uint64_t> none, s{1, 2};
	EXPECT_THROW(lab::percentile(none, 50), std::invalid_argument);
	EXPECT_THROW(lab::percentile(s, -1), std::invalid_argument);
	EXPECT_THROW(lab::percentile(s, 100.5), std::invalid_argument);
	EXPECT_THROW(lab::percentile(s, std::nan("")), std::invalid_argument);
}

TEST(Summary, SmallSample)
{
	auto l = lab::summarize({4, 1, 3, 2});
	EXPECT_EQ(l.count, 4u);
	EXPECT_EQ(l.min, 1u);
	EXPECT_EQ(l.max, 4u);
	EXPECT_EQ(l.median, 2u); // nearest rank: ceil(0.5 * 4) = 2nd
	EXPECT_EQ(l.p99, 4u);
	EXPECT_DOUBLE_EQ(l.avg, 2.5);
	EXPECT_DOUBLE_EQ(l.stddev, std::sqrt(1.25));
	EXPECT_THROW(lab::summarize({}), std::invalid_argument);
}

TEST(Log2Histogram, Buckets)
{
	using H = lab::Log2Histogram;
	EXPECT_EQ(H::bucket_of(0), 0u);
	EXPECT_EQ(H::bucket_of(1), 0u);
	EXPECT_EQ(H::bucket_of(2), 1u);
	EXPECT_EQ(H::bucket_of(3), 1u);
	EXPECT_EQ(H::bucket_of(4), 2u);
	EXPECT_EQ(H::bucket_of(1023), 9u);
	EXPECT_EQ(H::bucket_of(1024), 10u);
	EXPECT_EQ(H::bucket_of(UINT64_MAX), 63u);

	H h;
	for (uint64_t v : {0, 1, 5, 6, 7, 1000})
		h.add(v);
	EXPECT_EQ(h.buckets()[0], 2u);
	EXPECT_EQ(h.buckets()[2], 3u);
	EXPECT_EQ(h.buckets()[9], 1u);
	EXPECT_EQ(std::accumulate(h.buckets().begin(), h.buckets().end(), 0ull), 6u);
}

} // namespace
