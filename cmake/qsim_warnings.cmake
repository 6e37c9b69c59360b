# Warnings are errors in qsim's own code (never in dependencies' headers, which
# imported targets mark SYSTEM).
function(qsim_enable_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Werror -Wswitch -Wno-unused-parameter>)
endfunction()
