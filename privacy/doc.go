// Package privacy is a user's export and erasure across everything that
// holds their data (Keepers): the moderation desk and trending questions,
// the automation stage, its reply log and durable state, and the store.
// A user is covered under their bare id and every platform's key
// (PlatformAliases: erasing too much is the safe side). Both are audited,
// durably before they return.
//
// Keepers hold goroutine-safe parts; Export and Erase may run
// concurrently with the pipeline and with each other.
package privacy
