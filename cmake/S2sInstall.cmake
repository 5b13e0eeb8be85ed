# Installs s2s: headers, the library, the exported target s2s::s2s (s2sTargets.cmake),
# s2sConfig.cmake + s2sConfigVersion.cmake for find_package(s2s), and s2s.pc for pkg-config.
# Included by the top-level CMakeLists.txt after the s2s target is complete.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(S2S_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/s2s" CACHE STRING
    "Where s2sConfig.cmake is installed, relative to the prefix")

# s2s/communicator_mpi.h includes mpi.h: installed only when s2s has MPI.
set(_s2s_header_excludes)
if(NOT S2S_WITH_MPI)
  set(_s2s_header_excludes PATTERN "communicator_mpi.h" EXCLUDE)
endif()
install(DIRECTORY include/s2s DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.h" ${_s2s_header_excludes})
install(TARGETS s2s EXPORT s2sTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT s2sTargets NAMESPACE s2s:: DESTINATION "${S2S_INSTALL_CMAKEDIR}")

# ---- s2sConfig.cmake ------------------------------------------------------------------------
get_target_property(_s2s_type s2s TYPE)
if(_s2s_type STREQUAL "STATIC_LIBRARY")
  set(S2S_STATIC_LIBRARY TRUE)
else()
  set(S2S_STATIC_LIBRARY FALSE)
endif()
if(DEFINED BLA_VENDOR)
  set(S2S_BLAS_VENDOR "${BLA_VENDOR}")
else()
  set(S2S_BLAS_VENDOR "All")
endif()
set(S2S_CUDA_ARCHITECTURES_EXPORT "")
set(S2S_CUDA_TOOLKIT_ROOT "")
if(S2S_WITH_CUDA)
  set(S2S_CUDA_ARCHITECTURES_EXPORT "${CMAKE_CUDA_ARCHITECTURES}")
  get_filename_component(S2S_CUDA_TOOLKIT_ROOT "${CUDAToolkit_BIN_DIR}" DIRECTORY)
endif()
configure_package_config_file(cmake/s2sConfig.cmake.in
  "${CMAKE_CURRENT_BINARY_DIR}/s2sConfig.cmake"
  INSTALL_DESTINATION "${S2S_INSTALL_CMAKEDIR}")
# 0.x: minor versions may break the API, so only the same major.minor is compatible.
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/s2sConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMinorVersion)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/s2sConfig.cmake"
              "${CMAKE_CURRENT_BINARY_DIR}/s2sConfigVersion.cmake"
        DESTINATION "${S2S_INSTALL_CMAKEDIR}")

# ---- s2s.pc ---------------------------------------------------------------------------------
# Library files as link flags: /usr/lib/x86_64-linux-gnu/libopenblas.so -> -lopenblas (with -L
# for directories outside the linker's defaults).
function(_s2s_link_flags out)
  set(flags "")
  foreach(item IN LISTS ARGN)
    if(item MATCHES "^-")
      list(APPEND flags "${item}")
    elseif(item MATCHES "^(.*)/lib([^/]+)\\.(so|a)(\\.[0-9.]+)?$")
      set(dir "${CMAKE_MATCH_1}")
      if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
        list(APPEND flags "-L${dir}")
      endif()
      list(APPEND flags "-l${CMAKE_MATCH_2}")
    elseif(item)
      list(APPEND flags "${item}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES flags)
  list(JOIN flags " " flags)
  set(${out} "${flags}" PARENT_SCOPE)
endfunction()

_s2s_link_flags(_s2s_blas_flags ${BLAS_LIBRARIES} ${BLAS_LINKER_FLAGS})
set(S2S_PC_LIBS_PRIVATE "${_s2s_blas_flags}")
if(S2S_WITH_CUDA)
  set(S2S_PC_LIBS_PRIVATE "${S2S_PC_LIBS_PRIVATE} -L${CUDAToolkit_LIBRARY_DIR} -lcublas -lcudart")
endif()
if(S2S_WITH_NCCL)
  _s2s_link_flags(_s2s_nccl_flags ${NCCL_LIBRARY})
  set(S2S_PC_LIBS_PRIVATE "${S2S_PC_LIBS_PRIVATE} ${_s2s_nccl_flags}")
endif()
# MPI is public (s2s/communicator_mpi.h includes mpi.h): its include folders and libraries.
set(S2S_PC_CFLAGS_EXTRA "")
if(S2S_WITH_MPI)
  _s2s_link_flags(_s2s_mpi_flags ${MPI_CXX_LIBRARIES} ${MPI_CXX_LINK_FLAGS})
  set(S2S_PC_LIBS_PRIVATE "${S2S_PC_LIBS_PRIVATE} ${_s2s_mpi_flags}")
  foreach(dir IN LISTS MPI_CXX_INCLUDE_DIRS)
    string(APPEND S2S_PC_CFLAGS_EXTRA " -I${dir}")
  endforeach()
endif()
set(S2S_PC_LIBS_PRIVATE "${S2S_PC_LIBS_PRIVATE} -lstdc++ -lm")
set(S2S_PC_REQUIRES_PRIVATE "fmt")

# Relocatable: the prefix relative to <libdir>/pkgconfig, so that `cmake --install --prefix X`
# gives a file that points into X.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(S2S_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
  set(S2S_PC_PREFIX_FROM_PCDIR "")
  file(RELATIVE_PATH S2S_PC_PREFIX_FROM_PCDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
       "${CMAKE_INSTALL_PREFIX}")
else()
  set(S2S_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  file(RELATIVE_PATH S2S_PC_PREFIX_FROM_PCDIR "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" S2S_PC_PREFIX_FROM_PCDIR "${S2S_PC_PREFIX_FROM_PCDIR}")
endif()
if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(S2S_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
else()
  set(S2S_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(cmake/s2s.pc.in "${CMAKE_CURRENT_BINARY_DIR}/s2s.pc" @ONLY)
install(FILES "${CMAKE_CURRENT_BINARY_DIR}/s2s.pc"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
