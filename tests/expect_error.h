// EXPECT_ERROR_WITH: a statement must throw s2s::Error whose message names given fragments.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "s2s/error.h"

// Expects statement to throw s2s::Error whose message contains every fragment (so a test
// checks what the user is told, not only that something failed).
#define EXPECT_ERROR_WITH(statement, ...)                                          \
  do {                                                                             \
    try {                                                                          \
      statement;                                                                   \
      ADD_FAILURE() << "no s2s::Error from " #statement;                           \
    } catch (const ::s2s::Error& e) {                                              \
      for (const std::string fragment : {__VA_ARGS__})                             \
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)         \
            << "message '" << e.what() << "' lacks '" << fragment << "'";          \
    }                                                                              \
  } while (0)
