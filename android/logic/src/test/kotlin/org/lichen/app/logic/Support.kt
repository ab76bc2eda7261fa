package org.lichen.app.logic

import java.io.File
import java.nio.file.Files
import kotlinx.coroutines.delay
import kotlinx.coroutines.withTimeout
import org.lichen.Lichen
import org.lichen.LichenBuilder

/** A fresh temporary directory, removed when the JVM exits. */
fun tempDir(name: String): File = Files.createTempDirectory("lichen-$name").toFile().also { it.deleteOnExit() }

/** Polls [check] every 50 ms until it gives a non-null value or [timeoutMs] passes. */
suspend fun <T : Any> waitFor(what: String, timeoutMs: Long = 30_000, check: suspend () -> T?): T {
    return try {
        withTimeout(timeoutMs) {
            var got = check()
            while (got == null) {
                delay(50)
                got = check()
            }
            got
        }
    } catch (e: kotlinx.coroutines.TimeoutCancellationException) {
        throw AssertionError("timed out after $timeoutMs ms waiting for $what")
    }
}

suspend fun createRoot(dir: File, configure: (LichenBuilder) -> Unit = {}): Lichen =
    LichenBuilder(dir.absolutePath).also(configure).create()
