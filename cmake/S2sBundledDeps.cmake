# The dependencies from a folder written by scripts/gpu-bundle.sh (S2S_DEPS_DIR) instead of the
# system's packages, for a machine that has CUDA, CMake and a compiler but no Debian dev
# packages and no network (the GPU machine). The same imported targets find_package() gives:
# BLAS::BLAS, fmt::fmt, CLI11::CLI11, nlohmann_json::nlohmann_json, PNG::PNG, GTest::gtest(_main),
# benchmark::benchmark. Layout of S2S_DEPS_DIR:
#   include/   gtest/ gmock/ benchmark/ CLI/ nlohmann/ fmt/ cblas.h openblas_config.h ...
#   lib/       libopenblas_gemm.a (OpenBLAS' objects that cblas_sgemm/dgemm need), libgtest.a,
#              libgtest_main.a, libpng16.a, libz.a, libfmt.so.9, libbenchmark.so.1debian (shared: Debian ships no
#              static copy; found at run time through the build tree's RPATH)
include_guard(GLOBAL)
find_package(Threads REQUIRED)

set(_deps "${S2S_DEPS_DIR}")
foreach(required include/cblas.h include/fmt/core.h include/CLI/CLI.hpp
                 include/nlohmann/json.hpp include/png.h lib/libopenblas_gemm.a lib/libfmt.so.9
                 lib/libpng16.a lib/libz.a)
  if(NOT EXISTS "${_deps}/${required}")
    message(FATAL_ERROR "S2S_DEPS_DIR=${_deps} has no ${required}: give the deps/ folder of a "
                        "bundle written by scripts/gpu-bundle.sh")
  endif()
endforeach()

add_library(BLAS::BLAS STATIC IMPORTED)
set_target_properties(BLAS::BLAS PROPERTIES
  IMPORTED_LOCATION "${_deps}/lib/libopenblas_gemm.a"
  INTERFACE_INCLUDE_DIRECTORIES "${_deps}/include"
  INTERFACE_LINK_LIBRARIES "Threads::Threads;m")
# What S2sInstall.cmake writes into s2s.pc for the BLAS.
set(BLAS_LIBRARIES "${_deps}/lib/libopenblas_gemm.a;-lpthread;-lm")

add_library(fmt::fmt SHARED IMPORTED)
set_target_properties(fmt::fmt PROPERTIES
  IMPORTED_LOCATION "${_deps}/lib/libfmt.so.9"
  IMPORTED_SONAME "libfmt.so.9"
  INTERFACE_INCLUDE_DIRECTORIES "${_deps}/include"
  INTERFACE_COMPILE_DEFINITIONS "FMT_SHARED")

add_library(PNG::PNG STATIC IMPORTED)
set_target_properties(PNG::PNG PROPERTIES
  IMPORTED_LOCATION "${_deps}/lib/libpng16.a"
  INTERFACE_INCLUDE_DIRECTORIES "${_deps}/include"
  INTERFACE_LINK_LIBRARIES "${_deps}/lib/libz.a;m")

add_library(CLI11::CLI11 INTERFACE IMPORTED)
set_target_properties(CLI11::CLI11 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_deps}/include")
add_library(nlohmann_json::nlohmann_json INTERFACE IMPORTED)
set_target_properties(nlohmann_json::nlohmann_json PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${_deps}/include")

if(S2S_BUILD_TESTS)
  add_library(GTest::gtest STATIC IMPORTED)
  set_target_properties(GTest::gtest PROPERTIES
    IMPORTED_LOCATION "${_deps}/lib/libgtest.a"
    INTERFACE_INCLUDE_DIRECTORIES "${_deps}/include"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
  add_library(GTest::gtest_main STATIC IMPORTED)
  set_target_properties(GTest::gtest_main PROPERTIES
    IMPORTED_LOCATION "${_deps}/lib/libgtest_main.a"
    INTERFACE_LINK_LIBRARIES GTest::gtest)
endif()
if(S2S_BUILD_BENCHMARKS)
  add_library(benchmark::benchmark SHARED IMPORTED)
  set_target_properties(benchmark::benchmark PROPERTIES
    IMPORTED_LOCATION "${_deps}/lib/libbenchmark.so.1debian"
    IMPORTED_SONAME "libbenchmark.so.1debian"
    INTERFACE_INCLUDE_DIRECTORIES "${_deps}/include"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
unset(_deps)
