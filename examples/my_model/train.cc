// The training program with this package's models linked in: //tools:train's flags and
// behaviour, plus --model=my_cnn.
#include "tools/trainer/train_main.h"

int main(int argc, char** argv) { return ald::TrainMain(argc, argv); }
