// The trainer's data-parallel pieces: a rank's shard of a global batch, and the check that all
// ranks start from the same options, data, model and state.
#pragma once

#include <cstddef>
#include <vector>

#include "s2s/communicator.h"
#include "s2s/trainer.h"

namespace s2s {

// The batch of this rank's shard of the global batch order[begin, end) (all of it for a single
// process); batch_size 0 when the shard is empty (fewer examples than ranks).
Batch rank_batch(const SequenceData& data, const std::vector<std::size_t>& order,
                 std::size_t begin, std::size_t end, const Communicator& comm);

// Throws Error on every rank (naming the first rank that differs and what) unless every rank
// has the same options, data sizes and contents, model config, parameters, optimizer state and
// training state, and there are no more ranks than options.batch_size.
void require_trainer_ranks_agree(const Communicator& comm, Seq2Seq& model,
                                 const SequenceData& train, const SequenceData& valid,
                                 const TrainerOptions& options, const TrainingState& state,
                                 const char* when);

}  // namespace s2s
