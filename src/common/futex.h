// SPDX-License-Identifier: Apache-2.0
// Futex waits and wakes on a 32-bit atomic word (Linux), with a timeout, and without the
// spinning that std::atomic::wait does first: on a virtual machine a sched_yield() or a
// context switch is expensive, and a thread that expects to sleep should just sleep.
//
// A waker must change the word before waking (the waiter sleeps only while the word
// still holds the value it read), so a wake-up is never lost.

#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace sluice {

// Sleeps while `word` holds `expected`: until FutexWake() on it, or `timeout` passes
// (a negative timeout: no limit), or spuriously. Returns at once if the word differs.
void FutexWait(const std::atomic<std::uint32_t>& word, std::uint32_t expected,
               std::chrono::nanoseconds timeout);

// Wakes every thread sleeping in FutexWait() on `word`.
void FutexWake(const std::atomic<std::uint32_t>& word);

}  // namespace sluice
