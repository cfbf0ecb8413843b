# Kernel levels: the instruction sets one build compiles the core for, each
# into its own extension module (descramble._core_<level>); the Python loader
# picks the best one the CPU runs (python/descramble/_dispatch.py).
#
# Sets DESCRAMBLE_ALL_LEVELS (every level of the target architecture, lowest
# first) and DESCRAMBLE_FLAGS_<level> (its compile options).

include(CheckCXXCompilerFlag)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|x64|x86-64)$")
  set(DESCRAMBLE_ALL_LEVELS baseline avx2 avx512)
  if(MSVC)
    set(DESCRAMBLE_FLAGS_baseline "")
    set(DESCRAMBLE_FLAGS_avx2 /arch:AVX2)
    set(DESCRAMBLE_FLAGS_avx512 /arch:AVX512)
  else()
    # The x86-64 psABI micro-architecture levels: v3 is the Haswell set (AVX2,
    # FMA, BMI1/2, F16C, LZCNT, MOVBE on top of SSE4.2 and POPCNT), v4 adds
    # the Skylake-X AVX-512 subsets (F, CD, BW, DQ, VL). The loader checks
    # exactly these features (cpp/dispatch/cpu_features.cpp).
    check_cxx_compiler_flag("-march=x86-64-v3" DESCRAMBLE_HAS_MARCH_V3)
    set(DESCRAMBLE_FLAGS_baseline -march=x86-64 -mtune=generic)
    if(DESCRAMBLE_HAS_MARCH_V3)
      set(DESCRAMBLE_FLAGS_avx2 -march=x86-64-v3 -mtune=generic)
      set(DESCRAMBLE_FLAGS_avx512 -march=x86-64-v4 -mtune=generic)
    else()
      # Compilers older than GCC 11 / Clang 12 spell the same sets out.
      set(DESCRAMBLE_FLAGS_avx2
          -march=x86-64 -mtune=generic -msse3 -mssse3 -msse4.1 -msse4.2 -mpopcnt -mcx16 -msahf
          -mavx -mavx2 -mfma -mbmi -mbmi2 -mf16c -mlzcnt -mmovbe -mxsave)
      set(DESCRAMBLE_FLAGS_avx512 ${DESCRAMBLE_FLAGS_avx2} -mavx512f -mavx512cd -mavx512bw
                                  -mavx512dq -mavx512vl)
    endif()
  endif()
else()
  # Other architectures: one level, the target's default instruction set
  # (NEON on aarch64, which every AArch64 CPU has).
  set(DESCRAMBLE_ALL_LEVELS baseline)
  set(DESCRAMBLE_FLAGS_baseline "")
endif()

if(DESCRAMBLE_NATIVE)
  check_cxx_compiler_flag("-march=native" DESCRAMBLE_HAS_MARCH_NATIVE)
  if(NOT DESCRAMBLE_HAS_MARCH_NATIVE)
    message(FATAL_ERROR "DESCRAMBLE_NATIVE=ON: the compiler does not accept -march=native")
  endif()
  set(DESCRAMBLE_FLAGS_native -march=native)
endif()

# The levels this build makes: DESCRAMBLE_LEVELS (all by default), or the one
# native module.
function(descramble_selected_levels out)
  if(DESCRAMBLE_NATIVE)
    set(${out} native PARENT_SCOPE)
    return()
  endif()
  if(NOT DESCRAMBLE_LEVELS)
    set(${out} ${DESCRAMBLE_ALL_LEVELS} PARENT_SCOPE)
    return()
  endif()
  set(selected "")
  foreach(level IN LISTS DESCRAMBLE_ALL_LEVELS)
    if(level IN_LIST DESCRAMBLE_LEVELS)
      list(APPEND selected ${level})
    endif()
  endforeach()
  foreach(level IN LISTS DESCRAMBLE_LEVELS)
    if(NOT level IN_LIST DESCRAMBLE_ALL_LEVELS)
      message(FATAL_ERROR "DESCRAMBLE_LEVELS: unknown level '${level}' for "
                          "${CMAKE_SYSTEM_PROCESSOR}; expected some of: ${DESCRAMBLE_ALL_LEVELS}")
    endif()
  endforeach()
  set(${out} ${selected} PARENT_SCOPE)
endfunction()
