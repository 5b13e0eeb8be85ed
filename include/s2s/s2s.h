// The whole public API of s2s in one include.
#pragma once

#include "s2s/backend.h"
#include "s2s/batch.h"
#include "s2s/buffer.h"
#include "s2s/communicator.h"
#include "s2s/config.h"
#include "s2s/decoding.h"
#include "s2s/error.h"
#include "s2s/optimizer.h"
#include "s2s/random.h"
#include "s2s/seq2seq.h"
#include "s2s/tasks.h"
#include "s2s/tensor.h"
#include "s2s/vocab.h"
