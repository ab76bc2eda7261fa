package org.lichen.app

import android.annotation.SuppressLint
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCallback
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothManager
import android.bluetooth.BluetoothProfile
import android.bluetooth.BluetoothStatusCodes
import android.bluetooth.le.ScanCallback
import android.bluetooth.le.ScanFilter
import android.bluetooth.le.ScanResult
import android.bluetooth.le.ScanSettings
import android.content.Context
import android.os.Build
import android.os.ParcelUuid
import java.io.IOException
import java.util.UUID
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import org.lichen.AdapterState
import org.lichen.OpenException
import org.lichen.app.logic.GattConnection
import org.lichen.app.logic.GattEvents
import org.lichen.app.logic.GattPort

/** The client characteristic configuration descriptor (enables notifications). */
val CCCD: UUID = UUID.fromString("00002902-0000-1000-8000-00805f9b34fb")

/**
 * The phone's Bluetooth as the logic's [GattPort]: BluetoothLeScanner with a service filter
 * and BluetoothGatt, each callback turned into the blocking answer of one operation. The
 * logic (CentralAdapter) issues one operation at a time and decides everything else.
 * Not built or run on the development machines (no Android SDK there).
 */
@SuppressLint("MissingPermission") // onboarding asks for them; a SecurityException maps to PermissionMissing
class AndroidGattPort(private val context: Context) : GattPort {
    private val manager = context.getSystemService(BluetoothManager::class.java)
    private var scanCallback: ScanCallback? = null

    override fun adapterState(): AdapterState {
        val adapter = manager?.adapter ?: return AdapterState.UNSUPPORTED
        return try {
            if (adapter.isEnabled) AdapterState.POWERED_ON else AdapterState.POWERED_OFF
        } catch (e: SecurityException) {
            AdapterState.UNAUTHORIZED
        }
    }

    override fun startScan(service: UUID, found: (id: String, name: String, rssi: Int?) -> Unit) {
        val scanner = manager?.adapter?.bluetoothLeScanner ?: throw IOException("no Bluetooth LE scanner")
        val cb = object : ScanCallback() {
            override fun onScanResult(callbackType: Int, result: ScanResult) {
                val name = result.scanRecord?.deviceName ?: result.device.name ?: result.device.address
                found(result.device.address, name, result.rssi)
            }
        }
        scanCallback = cb
        scanner.startScan(
            listOf(ScanFilter.Builder().setServiceUuid(ParcelUuid(service)).build()),
            ScanSettings.Builder().setScanMode(ScanSettings.SCAN_MODE_LOW_LATENCY).build(),
            cb,
        )
    }

    override fun stopScan() {
        val cb = scanCallback ?: return
        scanCallback = null
        manager?.adapter?.bluetoothLeScanner?.stopScan(cb)
    }

    override fun connect(id: String, events: GattEvents): GattConnection {
        val device: BluetoothDevice = try {
            manager?.adapter?.getRemoteDevice(id) ?: throw OpenException.DeviceGone("no Bluetooth adapter")
        } catch (e: IllegalArgumentException) {
            throw OpenException.DeviceGone("not a Bluetooth address: $id")
        }
        val conn = Conn(events)
        try {
            conn.gatt = device.connectGatt(context, false, conn.callback, BluetoothDevice.TRANSPORT_LE)
        } catch (e: SecurityException) {
            throw OpenException.PermissionMissing("the app may not connect to Bluetooth devices")
        }
        val ok = conn.connected.poll(CONNECT_TIMEOUT_S, TimeUnit.SECONDS)
        if (ok != true) {
            conn.close()
            throw OpenException.DeviceGone("the dongle did not answer within $CONNECT_TIMEOUT_S s")
        }
        return conn
    }

    private class Conn(val events: GattEvents) : GattConnection {
        var gatt: BluetoothGatt? = null
        val connected = LinkedBlockingQueue<Boolean>()
        /** The answer of the one operation in flight: a status, an MTU, or -1 when the link went. */
        val answer = LinkedBlockingQueue<Int>()
        @Volatile var up = false

        val callback = object : BluetoothGattCallback() {
            override fun onConnectionStateChange(g: BluetoothGatt, status: Int, newState: Int) {
                if (newState == BluetoothProfile.STATE_CONNECTED && status == BluetoothGatt.GATT_SUCCESS) {
                    up = true
                    connected.offer(true)
                } else if (newState == BluetoothProfile.STATE_DISCONNECTED) {
                    connected.offer(false)
                    answer.offer(-1)
                    if (up) {
                        up = false
                        events.disconnected("disconnected (GATT status $status)")
                    }
                    g.close()
                }
            }

            override fun onMtuChanged(g: BluetoothGatt, mtu: Int, status: Int) {
                answer.offer(if (status == BluetoothGatt.GATT_SUCCESS) mtu else 23)
            }

            override fun onServicesDiscovered(g: BluetoothGatt, status: Int) { answer.offer(status) }
            override fun onDescriptorWrite(g: BluetoothGatt, d: BluetoothGattDescriptor, status: Int) { answer.offer(status) }
            override fun onCharacteristicWrite(g: BluetoothGatt, c: BluetoothGattCharacteristic, status: Int) { answer.offer(status) }

            override fun onCharacteristicChanged(g: BluetoothGatt, c: BluetoothGattCharacteristic, value: ByteArray) {
                events.notified(c.uuid, value)
            }

            @Deprecated("API < 33")
            override fun onCharacteristicChanged(g: BluetoothGatt, c: BluetoothGattCharacteristic) {
                @Suppress("DEPRECATION")
                if (Build.VERSION.SDK_INT < 33) events.notified(c.uuid, c.value ?: ByteArray(0))
            }
        }

        private fun await(what: String): Int {
            val a = answer.poll(OP_TIMEOUT_S, TimeUnit.SECONDS) ?: throw IOException("$what: no answer in $OP_TIMEOUT_S s")
            if (a == -1) throw IOException("$what: link lost")
            return a
        }

        private fun g() = gatt ?: throw IOException("not connected")

        override fun requestMtu(want: Int): Int {
            answer.clear()
            if (!g().requestMtu(want)) throw IOException("MTU request refused")
            return await("MTU")
        }

        override fun discover(): Map<UUID, Map<UUID, Int>> {
            answer.clear()
            if (!g().discoverServices()) throw IOException("discovery refused")
            if (await("discovery") != BluetoothGatt.GATT_SUCCESS) throw IOException("discovery failed")
            return g().services.associate { s -> s.uuid to s.characteristics.associate { it.uuid to it.properties } }
        }

        override fun subscribe(char: UUID): Boolean {
            val c = find(char) ?: return false
            val d = c.getDescriptor(CCCD) ?: return false
            if (!g().setCharacteristicNotification(c, true)) return false
            answer.clear()
            val started = if (Build.VERSION.SDK_INT >= 33) {
                g().writeDescriptor(d, BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE) == BluetoothStatusCodes.SUCCESS
            } else {
                @Suppress("DEPRECATION")
                d.setValue(BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE) && g().writeDescriptor(d)
            }
            return started && await("subscribe") == BluetoothGatt.GATT_SUCCESS
        }

        override fun write(char: UUID, value: ByteArray): Int {
            val c = find(char) ?: return 0x0a
            answer.clear()
            val started = if (Build.VERSION.SDK_INT >= 33) {
                g().writeCharacteristic(c, value, BluetoothGattCharacteristic.WRITE_TYPE_DEFAULT) == BluetoothStatusCodes.SUCCESS
            } else {
                @Suppress("DEPRECATION")
                c.writeType = BluetoothGattCharacteristic.WRITE_TYPE_DEFAULT
                @Suppress("DEPRECATION")
                c.setValue(value) && g().writeCharacteristic(c)
            }
            if (!started) throw IOException("the write was not started")
            return await("write")
        }

        private fun find(char: UUID): BluetoothGattCharacteristic? =
            g().services.firstNotNullOfOrNull { it.getCharacteristic(char) }

        override fun close() {
            up = false
            gatt?.disconnect()
            gatt?.close()
            gatt = null
        }
    }

    companion object {
        const val CONNECT_TIMEOUT_S = 10L
        const val OP_TIMEOUT_S = 5L
    }
}
