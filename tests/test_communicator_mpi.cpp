// The Open MPI communicator as an HPC application uses it: the application initialises MPI and
// passes MPI_COMM_WORLD in (s2s/communicator_mpi.h). Run under mpirun with 2 or 3 ranks
// (CMakeLists.txt); every rank runs every test, and the collectives must agree on all of them.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <vector>

#include "s2s/communicator.h"
#include "s2s/communicator_mpi.h"

namespace s2s {
namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

TEST(MpiCommunicator, HasTheApplicationsRanks) {
  const auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  EXPECT_EQ(comm->rank(), world_rank());
  EXPECT_EQ(comm->size(), world_size());
  EXPECT_GE(comm->size(), 2) << "run this test under mpirun -np 2 or more";
  // The test runs on one node: every rank is local.
  EXPECT_EQ(comm->local_size(), comm->size());
  EXPECT_EQ(comm->local_rank(), comm->rank());
}

TEST(MpiCommunicator, ReducesEveryTypeWithEveryOp) {
  const auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  const int r = comm->rank(), n = comm->size();
  std::vector<float> f = {float(r), 1.0f};
  comm->allreduce(f.data(), f.size(), ReduceOp::sum);
  EXPECT_EQ(f[0], float(n * (n - 1) / 2));
  EXPECT_EQ(f[1], float(n));
  std::vector<double> d = {double(r), -double(r)};
  comm->allreduce(d.data(), 1, ReduceOp::max);
  comm->allreduce(d.data() + 1, 1, ReduceOp::min);
  EXPECT_EQ(d[0], double(n - 1));
  EXPECT_EQ(d[1], -double(n - 1));
  std::int64_t big = (std::int64_t{1} << 40) + r;
  comm->allreduce(&big, 1, ReduceOp::min);
  EXPECT_EQ(big, std::int64_t{1} << 40);
}

TEST(MpiCommunicator, ScaledSumWeightsEachRankByItsOwnScale) {
  const auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  const int r = comm->rank(), n = comm->size();
  // Each rank holds r + 1 and weights it by 1 / (r + 1): the sum is n on every rank.
  std::vector<double> d(1000, r + 1.0);
  comm->allreduce_scaled_sum(d.data(), d.size(), 1.0 / (r + 1));
  for (double v : d) ASSERT_NEAR(v, n, 1e-12);
  std::vector<float> mean(5, float(r));
  comm->allreduce_average(mean.data(), mean.size());
  for (float v : mean) ASSERT_NEAR(v, (n - 1) / 2.0, 1e-6);
}

TEST(MpiCommunicator, ReducesALargeBufferIdenticallyOnEveryRank) {
  const auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  std::vector<float> g(3'000'001);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = 1e-3f * float((i * 7 + comm->rank()) % 1000);
  comm->allreduce(g.data(), g.size(), ReduceOp::sum);
  // Every rank's bits are the same: compare a checksum's min and max over ranks.
  // (unsigned arithmetic wraps by definition; the top bits dropped so that negating cannot
  // overflow.)
  std::uint64_t hash = 0;
  for (float v : g) hash = hash * 31 + static_cast<std::uint64_t>(v * 1024);
  const auto sum = static_cast<std::int64_t>(hash >> 2);
  std::int64_t range[2] = {sum, -sum};
  comm->allreduce(range, 2, ReduceOp::max);
  EXPECT_EQ(range[0], -range[1]);
}

TEST(MpiCommunicator, BroadcastsFromAnyRoot) {
  const auto comm = make_mpi_communicator(MPI_COMM_WORLD);
  const int root = comm->size() - 1;
  std::vector<std::int32_t> v(10, comm->rank() == root ? 7 : -1);
  comm->broadcast(v.data(), v.size() * sizeof(std::int32_t), root);
  for (std::int32_t x : v) EXPECT_EQ(x, 7);
  comm->barrier();
}

TEST(MpiCommunicator, TheWorldCommunicatorLeavesTheApplicationsMpiRunning) {
  {
    const auto world = make_world_communicator();  // mpirun set OMPI_COMM_WORLD_SIZE
    EXPECT_EQ(world->size(), world_size());
  }
  int finalised = 1;
  MPI_Finalized(&finalised);
  EXPECT_EQ(finalised, 0) << "s2s finalised MPI that the application had initialised";
}

}  // namespace
}  // namespace s2s

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  // Only rank 0 reports; the others still run every collective.
  if (s2s::world_rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int failed = RUN_ALL_TESTS();
  // A failure on any rank fails the test.
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return failed;
}
