package org.lichen.app

import android.annotation.SuppressLint
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothGatt
import android.bluetooth.BluetoothGattCharacteristic
import android.bluetooth.BluetoothGattDescriptor
import android.bluetooth.BluetoothGattServer
import android.bluetooth.BluetoothGattServerCallback
import android.bluetooth.BluetoothGattService
import android.bluetooth.BluetoothManager
import android.bluetooth.BluetoothProfile
import android.bluetooth.BluetoothStatusCodes
import android.bluetooth.le.AdvertiseCallback
import android.bluetooth.le.AdvertiseData
import android.bluetooth.le.AdvertiseSettings
import android.content.Context
import android.os.Build
import android.os.ParcelUuid
import java.util.concurrent.ConcurrentHashMap
import org.lichen.app.logic.NotifyPort
import org.lichen.app.logic.PeripheralSessions
import org.lichen.app.logic.TinySsb

/**
 * Phone to phone, the peripheral: advertises the tinySSB service and serves it (RX written
 * with response, TX notified). The sessions (one native link per subscribed central, each
 * send gated on onNotificationSent) are in the logic's [PeripheralSessions].
 * Not built or run on the development machines (no Android SDK there).
 */
@SuppressLint("MissingPermission")
class GattServer(
    private val context: Context,
    makeSessions: (NotifyPort) -> PeripheralSessions,
) {
    private val manager = context.getSystemService(BluetoothManager::class.java)
    private var server: BluetoothGattServer? = null
    private val devices = ConcurrentHashMap<String, BluetoothDevice>()
    private val mtus = ConcurrentHashMap<String, Int>()
    private lateinit var tx: BluetoothGattCharacteristic

    private val port = object : NotifyPort {
        override fun notify(central: String, value: ByteArray): Boolean {
            val s = server ?: return false
            val d = devices[central] ?: return false
            return try {
                if (Build.VERSION.SDK_INT >= 33) {
                    s.notifyCharacteristicChanged(d, tx, false, value) == BluetoothStatusCodes.SUCCESS
                } else {
                    @Suppress("DEPRECATION")
                    tx.setValue(value) && s.notifyCharacteristicChanged(d, tx, false)
                }
            } catch (e: SecurityException) {
                false
            }
        }
    }
    private val sessions = makeSessions(port)

    private val callback = object : BluetoothGattServerCallback() {
        override fun onConnectionStateChange(device: BluetoothDevice, status: Int, newState: Int) {
            if (newState == BluetoothProfile.STATE_CONNECTED) {
                devices[device.address] = device
            } else if (newState == BluetoothProfile.STATE_DISCONNECTED) {
                devices.remove(device.address)
                mtus.remove(device.address)
                sessions.onDisconnected(device.address, "disconnected")
            }
        }

        override fun onMtuChanged(device: BluetoothDevice, mtu: Int) {
            mtus[device.address] = mtu
        }

        override fun onDescriptorWriteRequest(
            device: BluetoothDevice, requestId: Int, descriptor: BluetoothGattDescriptor,
            preparedWrite: Boolean, responseNeeded: Boolean, offset: Int, value: ByteArray,
        ) {
            var status = BluetoothGatt.GATT_SUCCESS
            if (descriptor.uuid == CCCD && descriptor.characteristic.uuid == TinySsb.TX) {
                if (value.contentEquals(BluetoothGattDescriptor.ENABLE_NOTIFICATION_VALUE)) {
                    val why = sessions.onSubscribed(device.address, mtus[device.address] ?: 23)
                    if (why != null) status = BluetoothGatt.GATT_FAILURE
                } else {
                    sessions.onDisconnected(device.address, "unsubscribed")
                }
            }
            if (responseNeeded) server?.sendResponse(device, requestId, status, 0, null)
        }

        override fun onCharacteristicWriteRequest(
            device: BluetoothDevice, requestId: Int, characteristic: BluetoothGattCharacteristic,
            preparedWrite: Boolean, responseNeeded: Boolean, offset: Int, value: ByteArray,
        ) {
            val ok = characteristic.uuid == TinySsb.RX && !preparedWrite && sessions.onWrite(device.address, value)
            if (responseNeeded) {
                server?.sendResponse(device, requestId, if (ok) BluetoothGatt.GATT_SUCCESS else BluetoothGatt.GATT_FAILURE, 0, null)
            }
        }

        override fun onNotificationSent(device: BluetoothDevice, status: Int) {
            sessions.onNotificationSent(device.address, status)
        }
    }

    private val advertising = object : AdvertiseCallback() {}

    /** Phones nearby with a link up. */
    fun connected(): Int = sessions.connected()

    fun start() {
        val m = manager ?: return
        val s = m.openGattServer(context, callback) ?: return
        val service = BluetoothGattService(TinySsb.SERVICE, BluetoothGattService.SERVICE_TYPE_PRIMARY)
        val rx = BluetoothGattCharacteristic(
            TinySsb.RX, BluetoothGattCharacteristic.PROPERTY_WRITE, BluetoothGattCharacteristic.PERMISSION_WRITE,
        )
        tx = BluetoothGattCharacteristic(
            TinySsb.TX, BluetoothGattCharacteristic.PROPERTY_NOTIFY, BluetoothGattCharacteristic.PERMISSION_READ,
        ).apply {
            addDescriptor(
                BluetoothGattDescriptor(CCCD, BluetoothGattDescriptor.PERMISSION_READ or BluetoothGattDescriptor.PERMISSION_WRITE),
            )
        }
        service.addCharacteristic(rx)
        service.addCharacteristic(tx)
        s.addService(service)
        server = s
        m.adapter?.bluetoothLeAdvertiser?.startAdvertising(
            AdvertiseSettings.Builder()
                .setAdvertiseMode(AdvertiseSettings.ADVERTISE_MODE_BALANCED)
                .setConnectable(true)
                .build(),
            AdvertiseData.Builder().addServiceUuid(ParcelUuid(TinySsb.SERVICE)).setIncludeDeviceName(false).build(),
            advertising,
        )
    }

    fun stop(reason: String) {
        sessions.allDown(reason)
        try {
            manager?.adapter?.bluetoothLeAdvertiser?.stopAdvertising(advertising)
        } catch (_: Exception) {
        }
        server?.close()
        server = null
        devices.clear()
    }
}
