// The training program as a function, so that //tools:train and a binary that links its own
// models (examples/my_model) run the same program: parses the flags into a TrainConfig, trains,
// prints progress and the final line, writes --summary_json.
#pragma once

namespace ald {

// Call from main(). Returns the exit status: 0 done, 2 bad flags or data, 1 a failure while
// training (the message on stderr names what failed). May re-execute the program once to bound
// OpenMP's spinning (openmp_env.h), before it reads the flags.
int TrainMain(int argc, char** argv);

}  // namespace ald
