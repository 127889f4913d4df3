// //tools:train: trains a model from the zoo on a data set, on one or several workers, and prints
// progress; see README.md. The program lives in the trainer library (tools/trainer/train_main.h).
#include "tools/trainer/train_main.h"

int main(int argc, char** argv) { return ald::TrainMain(argc, argv); }
