# cmake -P script: install, build the consumer against the install, run it.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} --config ${BUILD_TYPE})
run(${CMAKE_COMMAND} -S ${CONSUMER_SOURCE} -B ${WORK_DIR}/build -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    -DCMAKE_PREFIX_PATH=${prefix})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build --config ${BUILD_TYPE})
run(${WORK_DIR}/build/consumer)
if(NOT last_output MATCHES "b1 = 2\\.0+")
  message(FATAL_ERROR "consumer printed an unexpected result:\n${last_output}")
endif()
if(NOT EXISTS ${prefix}/bin/parafit)
  message(FATAL_ERROR "the parafit command was not installed")
endif()
message(STATUS "consumer output: ${last_output}")
# The Python package, when this build has it: installed under the prefix (never a system
# directory), and importable from there.
file(GLOB python_package ${prefix}/lib/python3*/dist-packages/parafit)
if(python_package)
  get_filename_component(site ${python_package} DIRECTORY)
  # (A script file: a CMake list would split the code at its semicolons.)
  file(WRITE ${WORK_DIR}/check_python.py
       "import numpy as np\nimport parafit\nx = np.linspace(0, 5, 50)\n"
       "y = 2 * np.exp(-x) + 1 + 1e-3 * np.sin(9 * x)\n"
       "print(parafit.fit('exp-decay', xdata=x, ydata=y).params['a'])\n")
  run(${CMAKE_COMMAND} -E env PYTHONPATH=${site} /usr/bin/python3 ${WORK_DIR}/check_python.py)
  if(NOT last_output MATCHES "^2\\.0")
    message(FATAL_ERROR "the installed Python package printed an unexpected result:\n${last_output}")
  endif()
  message(STATUS "installed Python package: ${python_package}")
endif()
