// The foreign central of SocketCentral.kt drives Lichen's pairing and its reconnecting
// supervisor; a message crosses the emulated LoRa channel to a second node.
package org.lichen.test

import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Test
import org.lichen.DongleEmulator
import org.lichen.EmulatedAir
import org.lichen.LichenBuilder
import java.io.File

class CentralTest {
    @Test
    fun aKotlinCentralPairsReconnectsAndReachesASecondNodeOverLora() {
        val tmp = tempDir("central")
        val air = EmulatedAir(11uL, 0.0)
        val da = DongleEmulator.onAir(air, 0xA1A1uL)
        val db = DongleEmulator.onAir(air, 0xB2B2uL)
        try {
            runBlocking {
                val central = SocketCentral(listOf(da.addr()))
                val a = LichenBuilder(File(tmp, "a").path).use {
                    it.bleCentral(central)
                    it.create()
                }
                val b = LichenBuilder(File(tmp, "b").path).use {
                    it.dongleEmulator(db.addr())
                    it.create()
                }
                try {
                    val found = a.dongle().scan(800u)
                    assertEquals(listOf(da.addr() to da.name()), found.map { it.id to it.name })
                    val paired = a.dongle().pair(da.name())
                    assertEquals(da.name(), paired.name)
                    b.dongle().pair(db.name())
                    val tl = TimelineRecorder()
                    val h = b.chats().publicChannel().subscribe(tl, 50u)
                    a.chats().sendPublic("hello over LoRa")
                    waitUntil("A's post at B", 120_000) { "hello over LoRa" in tl.texts() }
                    val st = a.dongle().status()
                    assertNotNull(st.link)
                    assertEquals(128u, st.link?.mtu)

                    // The emulator drops the phone (out of range): the supervisor reconnects on
                    // its own once it is back, and what was written meanwhile arrives.
                    val opens = central.opens.get()
                    da.setBle(false)
                    a.chats().sendPublic("written while cut off")
                    delay(2000)
                    assertFalse("written while cut off" in tl.texts())
                    da.setBle(true)
                    waitUntil("reconnected", 60_000) { central.opens.get() > opens }
                    waitUntil("the catch-up at B", 180_000) { "written while cut off" in tl.texts() }
                    h.close()
                } finally {
                    a.shutdown()
                    b.shutdown()
                }
            }
        } finally {
            da.shutdown()
            db.shutdown()
        }
    }
}
