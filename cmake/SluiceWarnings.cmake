# sluice_warnings: the warning set every project target links PRIVATE.
add_library(sluice_warnings INTERFACE)
target_compile_options(sluice_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${SLUICE_WERROR}>:-Werror>)
