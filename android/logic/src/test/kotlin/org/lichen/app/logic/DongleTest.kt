package org.lichen.app.logic

import java.util.UUID
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.lichen.AdapterState
import org.lichen.DongleEmulator
import org.lichen.DongleException

class DongleTest {
    /** The screens in the order they were seen, repeats dropped. */
    private fun MutableList<String>.see(s: DongleScreen) {
        val k = s::class.simpleName!!
        if (lastOrNull() != k) add(k)
    }

    @Test
    fun scanPairConnectedLostReconnectingConnected() = runBlocking {
        val emu = DongleEmulator.start(0xA1A1uL)
        val port = EmulatorGattPort(listOf(emu.addr()))
        val central = CentralAdapter(port)
        val root = createRoot(tempDir("dongle")) { it.bleCentral(central) }
        try {
            val vm = DongleViewModel(root.dongle())
            val seen = mutableListOf<String>()
            val list = vm.scan(800) as DongleScreen.ScanList
            seen.see(list)
            val row = list.found.single()
            assertEquals(emu.name(), row.name)
            assertTrue(row.signal, row.rssi != null)
            seen.see(DongleScreen.Pairing(row.name))
            seen.see(vm.pair(row))
            val up = waitFor("connected") { vm.refresh().also { seen.see(it) } as? DongleScreen.Connected }
            assertTrue("MTU ${up.mtu}", (up.mtu ?: 0) >= TinySsb.MIN_MTU)
            val opens = central.opens

            // Out of range: the link is lost, then the supervisor tries again on its own.
            emu.setBle(false)
            waitFor("link lost") { vm.refresh().also { seen.see(it) } as? DongleScreen.LinkLost }
            val again = waitFor("reconnecting") { vm.refresh().also { seen.see(it) } as? DongleScreen.Reconnecting }
            assertTrue(again.attempt >= 1)
            // Between attempts the screen knows when the next one is due.
            val waiting = waitFor("a next attempt time") {
                (vm.refresh().also { seen.see(it) } as? DongleScreen.Reconnecting)
                    ?.takeIf { it.nextAttemptUnixMs != null }
            }
            val dueIn = waiting.nextAttemptUnixMs!! - System.currentTimeMillis()
            assertTrue("next attempt due in $dueIn ms", dueIn in -2_000L..120_000L)
            delay(1500)
            assertTrue("still down while out of range", vm.refresh().also { seen.see(it) } !is DongleScreen.Connected)
            emu.setBle(true)
            waitFor("connected again", 60_000) { vm.refresh().also { seen.see(it) } as? DongleScreen.Connected }
            assertTrue("a new connection", central.opens > opens)
            assertEquals(
                listOf("ScanList", "Pairing", "Connected", "LinkLost", "Reconnecting", "Connected"),
                seen,
            )
            assertTrue(vm.unpair() is DongleScreen.Idle)
        } finally {
            root.shutdown()
            emu.shutdown()
        }
    }

    /** Every variant of the bindings' DongleError has its own action, and the real ones reach it. */
    @Test
    fun everyPairingErrorMapsToItsAction() = runBlocking {
        val expected = mapOf(
            "BluetoothOff" to PairingAction.TURN_ON_BLUETOOTH,
            "PermissionMissing" to PairingAction.GRANT_PERMISSION,
            "BluetoothAbsent" to PairingAction.NO_BLUETOOTH,
            "Unsupported" to PairingAction.NO_BLUETOOTH,
            "DeviceGone" to PairingAction.MOVE_CLOSER,
            "ServiceMissing" to PairingAction.NOT_A_DONGLE,
            "MtuTooSmall" to PairingAction.UPDATE_FIRMWARE,
            "Timeout" to PairingAction.RETRY,
            "NotPaired" to PairingAction.PAIR,
            "Other" to PairingAction.EXPORT_LOGS,
        )
        // Every variant the bindings define (a new one fails here until it has an action).
        val variants = DongleException::class.java.declaredClasses
            .filter { DongleException::class.java.isAssignableFrom(it) }
        assertEquals(expected.keys, variants.map { it.simpleName }.toSet())
        for (v in variants) {
            val e = v.getConstructor(String::class.java).newInstance("why") as DongleException
            assertEquals(v.simpleName, expected[v.simpleName], PairingAction.of(e))
        }

        // And through the real library, from what the phone's Bluetooth reports.
        val emu = DongleEmulator.start(0xB2B2uL)
        val port = EmulatorGattPort(listOf(emu.addr()))
        var missing = false
        val checking = object : GattPort by port {
            override fun connect(id: String, events: GattEvents): GattConnection {
                val c = port.connect(id, events)
                if (!missing) return c
                // A device with other firmware: no tinySSB service.
                return object : GattConnection by c {
                    override fun discover(): Map<UUID, Map<UUID, Int>> = mapOf(UUID.randomUUID() to emptyMap())
                }
            }
        }
        val root = createRoot(tempDir("errors")) { it.bleCentral(CentralAdapter(checking)) }
        try {
            val vm = DongleViewModel(root.dongle())
            fun failedWith(): PairingAction = (vm.screen.value as DongleScreen.Failed).action
            assertTrue(vm.refresh() is DongleScreen.Idle) // NotPaired: nothing to show but "scan"
            port.state = AdapterState.POWERED_OFF
            vm.scan(100)
            assertEquals(PairingAction.TURN_ON_BLUETOOTH, failedWith())
            port.state = AdapterState.UNAUTHORIZED
            vm.scan(100)
            assertEquals(PairingAction.GRANT_PERMISSION, failedWith())
            port.state = AdapterState.UNSUPPORTED
            vm.scan(100)
            assertEquals(PairingAction.NO_BLUETOOTH, failedWith())
            port.state = AdapterState.POWERED_ON
            missing = true
            vm.pair(FoundRow(emu.addr(), emu.name(), null, false))
            assertEquals(PairingAction.NOT_A_DONGLE, failedWith())
            missing = false
            vm.pair(FoundRow("127.0.0.1:1", "tinySSB-gone", null, false))
            assertEquals(PairingAction.MOVE_CLOSER, failedWith())
            assertTrue((vm.screen.value as DongleScreen.Failed).message.isNotBlank())
        } finally {
            root.shutdown()
            emu.shutdown()
        }
        Unit
    }
}
