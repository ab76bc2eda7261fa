package org.lichen.app.logic

import java.util.UUID
import java.util.concurrent.Executors
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.lichen.AdapterState

/**
 * Two phones, as the app joins them: B is the central (PhoneCentral) and A the peripheral
 * (PeripheralSessions). The "radio" between them is in-process: B's RX writes are A's write
 * requests, A's notifications arrive at B on the radio's thread, and each counts as sent at
 * A only when the radio reports it (onNotificationSent).
 */
class PeripheralTest {
    private class Radio(val mtu: Int) : GattPort {
        val air = Executors.newSingleThreadExecutor { r -> Thread(r).apply { isDaemon = true } }
        @Volatile var up = true
        lateinit var a: PeripheralSessions
        @Volatile var toB: GattEvents? = null

        /** A's GATT server side. */
        val notify = object : NotifyPort {
            override fun notify(central: String, value: ByteArray): Boolean {
                if (!up) return false
                air.execute {
                    toB?.notified(TinySsb.TX, value)
                    a.onNotificationSent(central, 0)
                }
                return true
            }
        }

        override fun adapterState() = AdapterState.POWERED_ON
        override fun startScan(service: UUID, found: (String, String, Int?) -> Unit) = found("phone-a", "a", -50)
        override fun stopScan() {}

        /** B's central side, connecting to A as "phone-b". */
        override fun connect(id: String, events: GattEvents): GattConnection {
            toB = events
            return object : GattConnection {
                override fun requestMtu(want: Int) = minOf(want, mtu)
                override fun discover() = mapOf(
                    TinySsb.SERVICE to mapOf(TinySsb.RX to TinySsb.PROP_WRITE, TinySsb.TX to TinySsb.PROP_NOTIFY),
                )
                override fun subscribe(char: UUID) = a.onSubscribed("phone-b", mtu) == null
                override fun write(char: UUID, value: ByteArray) =
                    if (up && a.onWrite("phone-b", value)) 0 else 0x0e
                override fun close() {}
            }
        }
    }

    @Test
    fun postsCrossAPhoneToPhoneLinkAndADisconnectTakesItDown() = runBlocking {
        val ra = createRoot(tempDir("pa"))
        val rb = createRoot(tempDir("pb"))
        val radio = Radio(mtu = 185)
        try {
            radio.a = PeripheralSessions(ra.links(), radio.notify)
            val b = PhoneCentral(rb.links(), radio)
            // Too small an MTU is refused at attach, with a reason.
            assertNotNull(radio.a.onSubscribed("tiny", 100))
            assertNull(b.connect("phone-a"))
            assertEquals(1, radio.a.connected())
            assertEquals(1, b.connected())

            val pubA = ConversationViewModel(ra.chats().publicChannel(), emptyList())
            val pubB = ConversationViewModel(rb.chats().publicChannel(), emptyList())
            pubA.start(); pubB.start()
            ra.chats().sendPublic("from the peripheral")
            rb.chats().sendPublic("from the central")
            waitFor("A's post at B", 60_000) { pubB.state.value.messages.firstOrNull { it.text == "from the peripheral" } }
            waitFor("B's post at A", 60_000) { pubA.state.value.messages.firstOrNull { it.text == "from the central" } }

            // Out of range: both sides take their link down and count it so.
            radio.up = false
            radio.a.onDisconnected("phone-b", "out of range")
            radio.toB?.disconnected("out of range")
            assertEquals(0, radio.a.connected())
            assertEquals(0, b.connected())
            assertTrue("a write after the disconnect is refused", !radio.a.onWrite("phone-b", ByteArray(120)))
            pubA.close(); pubB.close()
        } finally {
            ra.shutdown()
            rb.shutdown()
            radio.air.shutdownNow()
        }
    }
}
