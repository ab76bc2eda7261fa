// Shared helpers for the Kotlin binding tests: temp roots, polling waits, and listeners that
// apply the diffs they hear to a list, as a UI would.
package org.lichen.test

import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import org.lichen.ChatListDiff
import org.lichen.ChatListItem
import org.lichen.ChatListListener
import org.lichen.ChatMessage
import org.lichen.Lichen
import org.lichen.LichenBuilder
import org.lichen.TimelineDiff
import org.lichen.TimelineListener
import java.io.File
import java.nio.file.Files

/** A fresh temporary directory, removed when the JVM exits. */
fun tempDir(name: String): File {
    val d = Files.createTempDirectory("lichen-kt-$name-").toFile()
    d.deleteOnExit()
    Runtime.getRuntime().addShutdownHook(Thread { d.deleteRecursively() })
    return d
}

/** A new root (identity created) in `dir`/`name`. */
suspend fun createRoot(dir: File, name: String): Lichen =
    LichenBuilder(File(dir, name).path).use { it.create() }

/** Polls `check` every 50 ms (suspending, never blocking) until it gives a value. */
suspend fun <T : Any> waitFor(what: String, timeoutMs: Long = 30_000, check: () -> T?): T {
    val deadline = System.nanoTime() + timeoutMs * 1_000_000
    while (System.nanoTime() < deadline) {
        check()?.let { return it }
        delay(50)
    }
    throw AssertionError("timed out waiting for $what")
}

/** Like [waitFor] for a condition. */
suspend fun waitUntil(what: String, timeoutMs: Long = 30_000, check: () -> Boolean) {
    waitFor(what, timeoutMs) { if (check()) true else null }
}

/** Keeps every diff it hears and the list they make, as a UI would. Called on Lichen's threads. */
abstract class Recorder<D, T> {
    private val lock = Any()
    protected val items = ArrayList<T>()
    private val all = ArrayList<D>()
    var resets = 0
        private set

    /** Applies one diff to `items`; true when it was a reset. */
    protected abstract fun apply(d: D): Boolean

    protected fun record(diffs: List<D>) {
        synchronized(lock) {
            for (d in diffs) {
                all.add(d)
                if (apply(d)) resets++
            }
        }
    }

    fun snapshot(): List<T> = synchronized(lock) { items.toList() }

    fun diffs(): List<D> = synchronized(lock) { all.toList() }
}

/** Hears a timeline. */
class TimelineRecorder : Recorder<TimelineDiff, ChatMessage>(), TimelineListener {
    override fun onUpdate(diffs: List<TimelineDiff>) = record(diffs)

    override fun apply(d: TimelineDiff): Boolean {
        when (d) {
            is TimelineDiff.Reset -> {
                items.clear()
                items.addAll(d.values)
                return true
            }
            is TimelineDiff.Insert -> items.add(d.index.toInt(), d.value)
            is TimelineDiff.Set -> items[d.index.toInt()] = d.value
            is TimelineDiff.Remove -> items.removeAt(d.index.toInt())
            is TimelineDiff.PushFront -> items.addAll(0, d.values)
            is TimelineDiff.Append -> items.addAll(d.values)
        }
        return false
    }

    fun texts(): List<String?> = snapshot().map { it.text }
}

/** Hears the chat list. */
class ListRecorder : Recorder<ChatListDiff, ChatListItem>(), ChatListListener {
    override fun onUpdate(diffs: List<ChatListDiff>) = record(diffs)

    override fun apply(d: ChatListDiff): Boolean {
        when (d) {
            is ChatListDiff.Reset -> {
                items.clear()
                items.addAll(d.values)
                return true
            }
            is ChatListDiff.Insert -> items.add(d.index.toInt(), d.value)
            is ChatListDiff.Set -> items[d.index.toInt()] = d.value
            is ChatListDiff.Remove -> items.removeAt(d.index.toInt())
        }
        return false
    }
}

/** What [holdOf] saw: the value, how long the call held the calling thread before it first
 * suspended, how long it took in all, and the 10 ms ticker's count and longest gap meanwhile. */
class Held<T>(val value: T, val heldMs: Double, val tookMs: Double, val ticks: Int, val maxGapMs: Double) {
    override fun toString() =
        "held %.1f ms, took %.0f ms, %d ticks, longest gap %.1f ms".format(heldMs, tookMs, ticks, maxGapMs)
}

/**
 * Runs `body` on the calling thread (started undispatched, so the time until it first suspends
 * is the time it held the thread) while a ticker on the same event loop ticks every 10 ms.
 */
suspend fun <T> holdOf(body: suspend () -> T): Held<T> = coroutineScope {
    val gaps = java.util.Collections.synchronizedList(ArrayList<Long>())
    val done = java.util.concurrent.atomic.AtomicBoolean(false)
    val ticker = launch {
        var last = System.nanoTime()
        while (!done.get()) {
            delay(10)
            val now = System.nanoTime()
            gaps.add(now - last)
            last = now
        }
    }
    val t0 = System.nanoTime()
    val job = async(start = CoroutineStart.UNDISPATCHED) {
        try {
            body()
        } finally {
            done.set(true)
        }
    }
    val held = (System.nanoTime() - t0) / 1e6
    val value = job.await()
    val took = (System.nanoTime() - t0) / 1e6
    ticker.join()
    val r = Held(value, held, took, gaps.size, (gaps.maxOrNull() ?: 0L) / 1e6)
    println("  $r")
    r
}

/** Runs `block`, which must throw an `E`, and gives that exception. */
suspend inline fun <reified E : Throwable> raises(block: suspend () -> Any?): E {
    val got = try {
        block()
        null
    } catch (e: Throwable) {
        e
    }
    if (got is E) return got
    throw AssertionError("expected ${E::class.qualifiedName}, got ${got ?: "no exception"}", got)
}
