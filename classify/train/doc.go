// Package train fits classify's linear model to labeled examples
// (Train: logistic regression per label by Adagrad over the hashed
// features, weights quantized to int8, calibrated to chat's base rates),
// off the runtime path: livemod train and eval use it, serve and replay
// only load the model it made (classify.ParseModel, classify.NewModel).
// docs/QUALITY.md has the data and the figures.
//
// Train is deterministic for a seed and keeps no state; calls may run
// concurrently.
package train
