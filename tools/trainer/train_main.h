// The training program as a function, so that //tools:train and a binary that links its own
// models (examples/my_model) run the same program: parses the flags into a TrainConfig, trains,
// prints progress and the final line, writes --summary_json.
#pragma once

namespace ald {

// Call from main(). Returns the exit status (exit_status.h): 0 done, 2 bad input (flags, data,
// checkpoint or topology files), 3 a peer failed, 1 an internal error; the message on stderr
// names the flag, file or peer. May re-execute the program once to bound
// OpenMP's spinning (openmp_env.h), before it reads the flags.
int TrainMain(int argc, char** argv);

}  // namespace ald
