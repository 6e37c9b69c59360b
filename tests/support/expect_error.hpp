#pragma once

// QSIM_EXPECT_THROW_MSG(statement, ErrorType, {"part", "other part"}):
// the statement must throw exactly ErrorType (or a subclass) and the message must
// contain every listed part — so a test pins *which* thing the error names.

#include <initializer_list>
#include <string>

#include <gtest/gtest.h>

#define QSIM_EXPECT_THROW_MSG(statement, ErrorType, ...)                           \
  do {                                                                              \
    bool qsim_thrown_ = false;                                                      \
    try {                                                                           \
      statement;                                                                    \
    } catch (const ErrorType& e) {                                                  \
      qsim_thrown_ = true;                                                          \
      const std::string qsim_what_ = e.what();                                      \
      for (const char* part : std::initializer_list<const char*> __VA_ARGS__) {     \
        EXPECT_NE(qsim_what_.find(part), std::string::npos)                         \
            << "message \"" << qsim_what_ << "\" does not mention \"" << part << "\""; \
      }                                                                             \
    }                                                                               \
    EXPECT_TRUE(qsim_thrown_) << #statement " did not throw " #ErrorType;           \
  } while (false)
