// No exported call holds the caller's thread: with a slow link (a peer that never answers
// the WebSocket handshake) or a slow foreign callback (a central whose open takes seconds),
// the suspend calls give the thread back. Measured on the calling thread: a ticker on the
// same single-threaded event loop (runBlocking). Each call must give the thread back within
// 50 ms (timed from the call to its first suspension); the ticker must keep ticking meanwhile.
// Its longest gap is printed, not asserted: on a loaded machine the scheduler alone makes
// gaps that long.
package org.lichen.test

import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.lichen.DongleEmulator
import org.lichen.LichenBuilder
import org.lichen.LinkException
import java.io.File
import java.net.InetAddress
import java.net.ServerSocket
import java.net.Socket
import java.util.Collections

class ResponsiveTest {
    private val limitMs = 50.0

    /** The call gave the thread back at once, and the thread ran other work while it waited. */
    private fun assertFreed(h: Held<*>) {
        assertTrue("the call held the calling thread: $h", h.heldMs < limitMs)
        assertTrue("the ticker barely ran: $h", h.ticks >= h.tookMs / 10 / 4)
    }

    @Test
    fun aSlowDialReturnsControlAtOnceAndTimesOut() {
        // Accepts TCP and never answers the handshake.
        val srv = ServerSocket(0, 8, InetAddress.getLoopbackAddress())
        val held = Collections.synchronizedList(ArrayList<Socket>())
        val acceptor = Thread({
            try {
                while (true) held.add(srv.accept())
            } catch (e: java.io.IOException) {
                // closed: done
            }
        }, "silent-peer").apply { isDaemon = true }
        acceptor.start()
        try {
            runBlocking {
                val a = createRoot(tempDir("slowdial"), "a")
                try {
                    // The JVM loads the classes of the async call path once, outside the timing.
                    a.links().list()
                    // Three dials: a call that blocks does so every time, while a loaded machine's
                    // scheduler can stall this thread past 50 ms once.
                    val tries = (1..3).map {
                        val h = holdOf {
                            raises<LinkException.Timeout> { a.links().dialWs("ws://127.0.0.1:${srv.localPort}", 1500u) }
                        }
                        assertTrue(h.value.reason, h.value.reason.contains("did not answer within 1500 ms"))
                        assertTrue("took ${h.tookMs} ms", h.tookMs > 1400 && h.tookMs < 10_000)
                        h
                    }
                    assertFreed(tries.minByOrNull { it.heldMs }!!)
                } finally {
                    a.shutdown()
                }
            }
        } finally {
            srv.close()
            held.forEach { it.close() }
        }
    }

    @Test
    fun aSlowForeignCentralDoesNotHoldTheCaller() {
        val emu = DongleEmulator.start(0xC3C3uL)
        try {
            runBlocking {
                val central = SocketCentral(listOf(emu.addr())).apply { openDelayMs = 1500 }
                val a = LichenBuilder(File(tempDir("slowcentral"), "a").path).use {
                    it.bleCentral(central)
                    it.create()
                }
                try {
                    // connect() sleeps 1.5 s on Lichen's thread; pair waits for it, the caller's does not.
                    a.chats().list()
                    val h = holdOf { a.dongle().pair(emu.name()) }
                    assertEquals(emu.name(), h.value.name)
                    assertTrue("pair took ${h.tookMs} ms: connect's delay did not happen", h.tookMs >= 1400)
                    assertFreed(h)
                    // The synchronous calls are cheap: each returns well within the limit.
                    for ((what, call) in listOf<Pair<String, () -> Any>>(
                        "feedId" to { a.feedId() },
                        "publicChannel" to { a.chats().publicChannel() },
                        "settings.get" to { a.settings().get() },
                    )) {
                        val t0 = System.nanoTime()
                        call()
                        val ms = (System.nanoTime() - t0) / 1e6
                        assertTrue("$what held the thread for $ms ms", ms < limitMs)
                    }
                } finally {
                    a.shutdown()
                }
            }
        } finally {
            emu.shutdown()
        }
    }

    /** Sleeps in every call, as a UI that does too much on Lichen's thread. */
    private class SlowListener : org.lichen.TimelineListener {
        val calls = java.util.concurrent.atomic.AtomicInteger(0)

        override fun onUpdate(diffs: List<org.lichen.TimelineDiff>) {
            Thread.sleep(800)
            calls.incrementAndGet()
        }
    }

    @Test
    fun aSlowListenerDoesNotHoldTheCaller(): Unit = runBlocking {
        val a = createRoot(tempDir("slowlistener"), "a")
        try {
            val pub = a.chats().publicChannel()
            val slow = SlowListener()
            val t0 = System.nanoTime()
            val h = pub.subscribe(slow, 10u)
            val ms = (System.nanoTime() - t0) / 1e6
            assertTrue("subscribe held the thread for $ms ms", ms < limitMs)
            val sends = (0 until 3).map { i -> holdOf { pub.send("post $i") } }
            val fastest = sends.minOf { it.heldMs }
            assertTrue("send held the thread for $fastest ms or more, every time", fastest < limitMs)
            waitUntil("the slow listener's calls") { slow.calls.get() >= 2 }
            h.close()
        } finally {
            a.shutdown()
        }
    }
}
